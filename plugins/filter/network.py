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


def _tuple_rule(line):
    """The rule of one ``### tuple ###`` line of UFW's user rules files, or None for other lines.

    UFW keeps ``action proto dport dst sport src direction [comment=<hex>]`` per rule; only plain
    inbound rules without a source port (the kind the role writes) are returned.
    """
    if not line.startswith("### tuple ###"):
        return None
    fields = line[len("### tuple ###"):].rsplit(" comment=", 1)[0].split()
    if len(fields) != 7 or fields[6] != "in" or fields[4] != "any":
        return None
    action, proto, dport, dst, _sport, src = fields[:6]
    return {
        "route": action.startswith("route:"),
        "rule": action.split(":", 1)[-1].split("_", 1)[0],
        "proto": proto,
        "port": dport,
        "from": _ufw_address(src),
        "to": _ufw_address(dst),
    }


def ufw_stale_rules(rules_texts, wanted, comment):
    """Rules UFW holds with ``comment`` that are not in ``wanted``, ready for ``community.general.ufw``.

    ``rules_texts`` are the contents of /etc/ufw/user.rules and user6.rules.
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
            if not line.rstrip().endswith(marker):
                continue
            rule = _tuple_rule(line)
            if rule is None:
                continue
            key = _rule_key(rule)
            if key in wanted_keys or key in seen:
                continue
            seen.add(key)
            stale.append(rule)
    return stale


def _match_key(rule):
    """What a rule matches, without its action: UFW holds one rule per match."""
    return _rule_key(rule)[:1] + _rule_key(rule)[2:]


def ufw_misplaced_rules(rules_texts, top_rules):
    """Rules UFW holds that keep ``top_rules`` from being its first rules, in that order.

    ``rules_texts`` are the contents of /etc/ufw/user.rules and user6.rules; in each, the n-th rule of
    ``top_rules`` must be the n-th rule UFW evaluates, ahead of any rule added by hand. Returned, in
    the shape ``community.general.ufw`` deletes: a top rule held at another position (UFW does not
    move a rule it holds), and a rule for the same traffic with another action (UFW holds one rule per
    match, and does not replace it on insert). Delete them, then insert the top rules.
    """
    if isinstance(rules_texts, str):
        rules_texts = [rules_texts]
    tops = [(_match_key(rule), str(rule.get("rule", "allow"))) for rule in (top_rules or [])]
    misplaced, seen = [], set()
    for text in rules_texts or []:
        held = [_tuple_rule(line) for line in str(text).splitlines() if line.startswith("### tuple ###")]
        for index, (match, action) in enumerate(tops):
            for position, rule in enumerate(held):
                if rule is None or _match_key(rule) != match:
                    continue
                if (position != index or rule["rule"] != action) and _rule_key(rule) not in seen:
                    seen.add(_rule_key(rule))
                    misplaced.append(rule)
    return misplaced


def _held_rules(rules_texts):
    """{4: [(rule, comment hex)], 6: [...]} of UFW's user rules files, in UFW's order; None for a file not read."""
    if isinstance(rules_texts, str):
        rules_texts = [rules_texts]
    held = {4: None, 6: None}
    for text in rules_texts or []:
        text = str(text)
        # user6.rules names its chains ufw6-*; its tuples' "any" is ::/0.
        family = 6 if "ufw6-user-input" in text or " ::/0 " in text else 4
        held[family] = [(_tuple_rule(line), line.rsplit(" comment=", 1)[1].strip() if " comment=" in line else "")
                        for line in text.splitlines() if line.startswith("### tuple ###")]
    return held


def ufw_missing_rules(rules_texts, wanted, ipv6=True, in_place=False):
    """The ``wanted`` rules UFW does not hold yet, in their order: those ``community.general.ufw`` would change.

    A rule is held when UFW's user rules files have one for the same traffic with the same action and comment, in
    the file of each address family it applies to (a rule "from any" in both with ``ipv6``). With ``in_place``,
    the n-th wanted rule must also be UFW's n-th rule, as for the rules that must come first.
    """
    held = _held_rules(rules_texts)
    missing = []
    for index, rule in enumerate(wanted or []):
        source = _ufw_address(str(rule.get("from", "any")))
        network = None if source == "any" else _parse(source, strict=False)
        families = [network.version] if network is not None else ([4, 6] if ipv6 else [4])
        key, comment = _rule_key(rule), str(rule.get("comment") or "").encode("utf-8").hex()
        for family in families:
            positions = [position for position, (rule_held, comment_held) in enumerate(held[family] or [])
                         if rule_held is not None and _rule_key(rule_held) == key and comment_held == comment]
            if (index not in positions) if in_place else not positions:
                missing.append(rule)
                break
    return missing


def ufw_settings(texts):
    """NAME: value of UFW's settings files (/etc/ufw/ufw.conf, /etc/default/ufw), quotes removed."""
    if isinstance(texts, str):
        texts = [texts]
    settings = {}
    for text in texts or []:
        for line in str(text).splitlines():
            name, sep, value = line.strip().partition("=")
            if sep and name and not name.startswith("#"):
                settings[name] = value.strip().strip('"')
    return settings


def _port_matches(rule_port, port):
    text = str(rule_port)
    if text == "any":
        return True
    low, _sep, high = text.partition(":")
    return int(low) <= port <= int(high or low)


def ufw_allows(rules, port, address, default="deny", ipv6=True):
    """Whether UFW, holding ``rules`` in that order, lets in a new TCP connection from ``address`` to ``port``.

    The first matching rule decides (allow and limit let it in); without one the default incoming
    policy does. Route rules do not apply to the host's own ports. With ``ipv6`` false, UFW does not
    filter IPv6 at all.
    """
    source = _parse(address, strict=False)
    if source is None or source.prefixlen != source.max_prefixlen:
        raise AnsibleFilterError("ufw_allows: %r is not an IP address" % (address,))
    if source.version == 6 and not ipv6:
        return True
    for rule in rules or []:
        if rule.get("route", False) or str(rule.get("proto", "tcp")) not in ("tcp", "any"):
            continue
        if not _port_matches(rule.get("port", "any"), int(port)):
            continue
        network = _parse(_ufw_address(str(rule.get("from", "any"))), strict=False)
        if network is not None and not (network.version == source.version
                                        and source.network_address in network):
            continue
        return str(rule.get("rule", "allow")) in ("allow", "limit")
    return str(default) == "allow"


class FilterModule(object):
    """Network validation filters."""

    def filters(self):
        return {
            "invalid_networks": invalid_networks,
            "network_version": network_version,
            "ufw_stale_rules": ufw_stale_rules,
            "ufw_missing_rules": ufw_missing_rules,
            "ufw_settings": ufw_settings,
            "ufw_misplaced_rules": ufw_misplaced_rules,
            "ufw_allows": ufw_allows,
        }
