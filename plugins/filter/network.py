# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Address and network checks for role input validation, without ansible.utils/netaddr.

Roles use these filters in their first ``ansible.builtin.assert`` so that a malformed CIDR fails
before anything changes on the host, with the offending entries named in the message.
"""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

# Words that UFW and nginx accept in place of a network and that mean "every address".
_ANY_WORDS = ("any", "all")


def _parse(value, strict=True):
    """Return an ip_network for an address or a CIDR, or None when the text is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    if not text or text != str(value) or " " in text:
        return None
    try:
        # An address without a prefix is a host network (/32 or /128).
        return ipaddress.ip_network(text, strict=strict)
    except ValueError:
        return None


def invalid_networks(values, allow_any=False, strict=True):
    """Return the entries of ``values`` that are not an IPv4/IPv6 address or network in CIDR form.

    ``allow_any`` accepts the words ``any``/``all``; ``strict`` rejects networks with host bits set
    (``10.0.0.1/8``), which are nearly always a typo for a host or a different network.
    An empty result means every entry is valid.
    """
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise AnsibleFilterError("invalid_networks expects a list, got %s" % type(values).__name__)
    bad = []
    for value in values:
        if allow_any and isinstance(value, str) and value.lower() in _ANY_WORDS:
            continue
        if _parse(value, strict=bool(strict)) is None:
            bad.append(value)
    return bad


def network_version(value):
    """Return 4 or 6 for an address or a CIDR; fail on anything else."""
    network = _parse(value, strict=False)
    if network is None:
        raise AnsibleFilterError("network_version: %r is not an IP address or network" % (value,))
    return network.version


def _ufw_address(text):
    """UFW's form of a rule address: "any" for every address, a bare address for a host."""
    if text in ("any", "0.0.0.0/0", "::/0"):
        return "any"
    network = _parse(text, strict=False)
    if network is None:
        return text
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def _rule_key(rule):
    return (
        bool(rule.get("route", False)),
        str(rule.get("rule", "allow")),
        str(rule.get("proto", "tcp")).lower(),
        str(rule.get("port", "any")),
        _ufw_address(str(rule.get("from", "any"))),
        _ufw_address(str(rule.get("to", "any"))),
    )


def ufw_stale_rules(rules_texts, wanted, comment):
    """Rules UFW holds with ``comment`` that are not in ``wanted``, ready for ``community.general.ufw``.

    ``rules_texts`` are the contents of /etc/ufw/user.rules and user6.rules; UFW keeps one
    ``### tuple ### action proto dport dst sport src direction [comment=<hex>]`` line per rule there.
    ``wanted`` items have the keys rule, port, proto, from (and optionally route, to).
    Each stale rule is returned once (a rule "from any" has an IPv4 and an IPv6 tuple).
    """
    if isinstance(rules_texts, str):
        rules_texts = [rules_texts]
    marker = "comment=" + str(comment).encode("utf-8").hex()
    wanted_keys = set(_rule_key(rule) for rule in (wanted or []))
    stale, seen = [], set()
    for text in rules_texts or []:
        for line in str(text).splitlines():
            if not line.startswith("### tuple ###") or not line.rstrip().endswith(marker):
                continue
            fields = line[len("### tuple ###"):].rsplit(" comment=", 1)[0].split()
            # action proto dport dst sport src [dapp sapp] direction; only plain inbound rules are ours
            if len(fields) != 7 or fields[6] != "in" or fields[4] != "any":
                continue
            action, proto, dport, dst, _sport, src = fields[:6]
            route = action.startswith("route:")
            rule = {
                "route": route,
                "rule": action.split(":", 1)[-1].split("_", 1)[0],
                "proto": proto,
                "port": dport,
                "from": _ufw_address(src),
                "to": _ufw_address(dst),
            }
            key = _rule_key(rule)
            if key in wanted_keys or key in seen:
                continue
            seen.add(key)
            stale.append(rule)
    return stale


class FilterModule(object):
    """Network validation filters."""

    def filters(self):
        return {
            "invalid_networks": invalid_networks,
            "network_version": network_version,
            "ufw_stale_rules": ufw_stale_rules,
        }
