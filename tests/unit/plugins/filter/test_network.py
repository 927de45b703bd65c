# Copyright (c) 2025, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of plugins/filter/network.py."""

from __future__ import annotations

import os
import sys

import pytest

try:
    from ansible_collections.llmops.ollama.plugins.filter import network
except ImportError:  # run straight from a checkout: use the harness's collection tree
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), *([".."] * 4), ".ansible", "collections"))
    from ansible_collections.llmops.ollama.plugins.filter import network

from ansible.errors import AnsibleFilterError


@pytest.mark.parametrize("value", [
    "10.0.0.0/8", "192.168.1.10", "192.168.1.10/32", "0.0.0.0/0", "2001:db8::/32", "::1", "fd00::/8",
])
def test_valid_entries(value):
    assert network.invalid_networks([value]) == []


@pytest.mark.parametrize("value", [
    "", " 10.0.0.0/8", "10.0.0.0/33", "300.1.1.1", "10.0.0/8", "10.0.0.0/8/1", "example.com", "any",
    "2001:db8::/129", "10.0.0.0 /8", None, True, ["10.0.0.0/8"],
])
def test_invalid_entries(value):
    assert network.invalid_networks([value]) == [value]


def test_host_bits_strict_and_lenient():
    assert network.invalid_networks(["10.0.0.1/8"]) == ["10.0.0.1/8"]
    assert network.invalid_networks(["10.0.0.1/8"], strict=False) == []


def test_any_words_only_when_allowed():
    assert network.invalid_networks(["any", "all", "ANY"], allow_any=True) == []
    assert network.invalid_networks(["any"]) == ["any"]


def test_only_bad_entries_returned_in_order():
    assert network.invalid_networks(["10.0.0.0/8", "bad", "::/0", "1.2.3.4/40"]) == ["bad", "1.2.3.4/40"]


def test_requires_a_list():
    with pytest.raises(AnsibleFilterError):
        network.invalid_networks("10.0.0.0/8")


def test_network_version():
    assert network.network_version("10.1.2.3") == 4
    assert network.network_version("10.1.2.3/8") == 4
    assert network.network_version("2001:db8::/32") == 6
    with pytest.raises(AnsibleFilterError):
        network.network_version("nope")


def test_filter_map():
    filters = network.FilterModule().filters()
    assert set(filters) == {"invalid_networks", "network_version", "ufw_stale_rules", "ufw_misplaced_rules",
                            "ufw_missing_rules", "ufw_settings", "ufw_allows"}


COMMENT = "managed by test"
HEX = COMMENT.encode().hex()
USER_RULES = """
### RULES ###

### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=%(hex)s
-A ufw-user-input -p tcp --dport 22 -j ACCEPT

### tuple ### deny tcp 11434 0.0.0.0/0 any 0.0.0.0/0 in comment=%(hex)s
### tuple ### allow tcp 80 0.0.0.0/0 any 10.0.0.0/8 in comment=%(hex)s
### tuple ### allow tcp 80 0.0.0.0/0 any 192.168.1.5 in comment=%(hex)s
### tuple ### allow tcp 8080 0.0.0.0/0 any 0.0.0.0/0 in
### tuple ### route:allow tcp 8000 0.0.0.0/0 any 0.0.0.0/0 in comment=%(hex)s
### tuple ### allow_log tcp 443 0.0.0.0/0 any 0.0.0.0/0 in comment=%(hex)s
""" % {"hex": HEX}
USER6_RULES = """
### tuple ### allow tcp 22 ::/0 any ::/0 in comment=%(hex)s
### tuple ### deny tcp 11434 ::/0 any ::/0 in comment=%(hex)s
### tuple ### allow tcp 80 ::/0 any fc00::/7 in comment=%(hex)s
""" % {"hex": HEX}


def test_ufw_stale_rules_keeps_wanted_and_foreign_rules():
    wanted = [
        {"rule": "allow", "port": 22, "proto": "tcp", "from": "any"},
        {"rule": "deny", "port": "11434", "proto": "tcp", "from": "any"},
        {"rule": "allow", "port": 80, "proto": "tcp", "from": "192.168.1.5/32"},
        {"rule": "allow", "port": 80, "proto": "tcp", "from": "fc00::/7"},
    ]
    stale = network.ufw_stale_rules([USER_RULES, USER6_RULES], wanted, COMMENT)
    assert stale == [
        {"route": False, "rule": "allow", "proto": "tcp", "port": "80", "from": "10.0.0.0/8", "to": "any"},
        {"route": True, "rule": "allow", "proto": "tcp", "port": "8000", "from": "any", "to": "any"},
        {"route": False, "rule": "allow", "proto": "tcp", "port": "443", "from": "any", "to": "any"},
    ]


def test_ufw_stale_rules_any_rule_reported_once():
    stale = network.ufw_stale_rules([USER_RULES, USER6_RULES], [], COMMENT)
    assert sum(1 for rule in stale if rule["port"] == "22") == 1


def test_ufw_stale_rules_other_comment_untouched():
    assert network.ufw_stale_rules(USER_RULES, [], "another comment") == []


DENY_OLLAMA = {"rule": "deny", "port": "11434", "proto": "tcp", "from": "any"}
HELD_DENY = dict(DENY_OLLAMA, route=False, to="any")


def test_ufw_misplaced_rules_below_a_hand_made_allow():
    # USER_RULES holds the deny rule second, after the SSH rule
    assert network.ufw_misplaced_rules([USER_RULES, USER6_RULES], [DENY_OLLAMA]) == [HELD_DENY]


def test_ufw_misplaced_rules_in_place_or_absent():
    on_top = ("### tuple ### deny tcp 11434 0.0.0.0/0 any 0.0.0.0/0 in comment=%s\n" % HEX
              + "### tuple ### allow any any 0.0.0.0/0 any 10.0.0.0/8 in\n")
    on_top6 = "### tuple ### deny tcp 11434 ::/0 any ::/0 in\n### tuple ### allow any any ::/0 any fc00::/7 in\n"
    assert network.ufw_misplaced_rules([on_top, on_top6], [DENY_OLLAMA]) == []
    assert network.ufw_misplaced_rules(["", "### tuple ### allow any any ::/0 any ::/0 in\n"], [DENY_OLLAMA]) == []
    # another protocol is another rule: UFW holds both, the deny first
    any_proto = on_top + "### tuple ### allow any 11434 0.0.0.0/0 any 0.0.0.0/0 in\n"
    assert network.ufw_misplaced_rules([any_proto], [DENY_OLLAMA]) == []


def test_ufw_misplaced_rules_only_in_one_family():
    on_top = "### tuple ### deny tcp 11434 0.0.0.0/0 any 0.0.0.0/0 in\n"
    below6 = "### tuple ### allow any any ::/0 any ::/0 in\n### tuple ### deny tcp 11434 ::/0 any ::/0 in\n"
    assert network.ufw_misplaced_rules([on_top, below6], [DENY_OLLAMA]) == [HELD_DENY]


def test_ufw_misplaced_rules_same_traffic_other_action():
    # a hand-made "ufw allow 11434/tcp", even on top: UFW would keep it instead of inserting the deny
    allow = "### tuple ### allow tcp 11434 0.0.0.0/0 any 0.0.0.0/0 in\n"
    assert network.ufw_misplaced_rules([allow], [DENY_OLLAMA]) == [dict(HELD_DENY, rule="allow")]


SSH_RULES = [
    DENY_OLLAMA,
    {"rule": "allow", "port": "2222", "proto": "tcp", "from": "10.1.0.0/16"},
    {"rule": "limit", "port": "2200:2300", "proto": "tcp", "from": "fd00::/8"},
    {"rule": "allow", "port": "2222", "proto": "tcp", "from": "any", "route": True},
]


@pytest.mark.parametrize("port, address, expected", [
    (2222, "10.1.2.3", True),          # allow from its network
    (2222, "10.2.0.1", False),         # no rule for that source: default deny
    (2250, "fd00::5", True),           # limit on a port range
    (2250, "fe80::5", False),
    (11434, "10.1.2.3", False),        # deny first
    (22, "10.1.2.3", False),
])
def test_ufw_allows(port, address, expected):
    assert network.ufw_allows(SSH_RULES, port, address) is expected


def test_ufw_allows_default_policy_and_unfiltered_ipv6():
    assert network.ufw_allows(SSH_RULES, 22, "10.1.2.3", default="allow") is True
    assert network.ufw_allows(SSH_RULES, 11434, "10.1.2.3", default="allow") is False
    assert network.ufw_allows([], 22, "2001:db8::1", ipv6=False) is True
    assert network.ufw_allows([], 22, "192.0.2.1", ipv6=False) is False


def test_ufw_allows_first_match_wins():
    rules = [{"rule": "deny", "port": "any", "proto": "any", "from": "10.0.0.0/8"},
             {"rule": "allow", "port": "22", "proto": "tcp", "from": "any"}]
    assert network.ufw_allows(rules, 22, "10.9.9.9") is False
    assert network.ufw_allows(rules, 22, "192.0.2.9") is True


def test_ufw_allows_needs_an_address():
    with pytest.raises(AnsibleFilterError):
        network.ufw_allows([], 22, "10.0.0.0/8")


SSH_ANY = {"rule": "allow", "port": "22", "proto": "tcp", "from": "any", "route": False, "comment": COMMENT}
PROXY_NET = {"rule": "allow", "port": "80", "proto": "tcp", "from": "10.0.0.0/8", "route": False, "comment": COMMENT}
PROXY_V6 = {"rule": "allow", "port": "80", "proto": "tcp", "from": "fc00::/7", "route": False, "comment": COMMENT}
ROUTE = {"rule": "allow", "port": "8000", "proto": "tcp", "from": "any", "route": True, "comment": COMMENT}


def test_ufw_missing_rules_skips_what_ufw_holds():
    assert network.ufw_missing_rules([USER_RULES, USER6_RULES], [SSH_ANY, PROXY_NET, PROXY_V6]) == []


@pytest.mark.parametrize("rule", [
    dict(PROXY_NET, comment="another comment"),          # UFW would rewrite the comment
    dict(PROXY_NET, rule="deny"),                       # another action
    dict(PROXY_NET, port="81"),
    dict(PROXY_NET, **{"from": "10.0.0.0/16"}),
    dict(PROXY_V6, **{"from": "fd00::/8"}),
    dict(SSH_ANY, port="2222"),
])
def test_ufw_missing_rules_returns_what_ufw_would_change(rule):
    assert network.ufw_missing_rules([USER_RULES, USER6_RULES], [SSH_ANY, rule]) == [rule]


def test_ufw_missing_rules_any_source_needs_both_families_with_ipv6():
    # The route rule is held for IPv4 only.
    assert network.ufw_missing_rules([USER_RULES, USER6_RULES], [ROUTE]) == [ROUTE]
    assert network.ufw_missing_rules([USER_RULES, USER6_RULES], [ROUTE], ipv6=False) == []
    # A file that could not be read holds nothing.
    assert network.ufw_missing_rules([USER_RULES], [SSH_ANY]) == [SSH_ANY]
    assert network.ufw_missing_rules([], [PROXY_NET]) == [PROXY_NET]


def test_ufw_missing_rules_in_place():
    deny = dict(DENY_OLLAMA, route=False, comment=COMMENT)
    # USER_RULES holds the deny rule second: not in place for a rule that must come first.
    assert network.ufw_missing_rules([USER_RULES, USER6_RULES], [deny], in_place=True) == [deny]
    on_top = "### tuple ### deny tcp 11434 0.0.0.0/0 any 0.0.0.0/0 in comment=%s\n" % HEX
    on_top6 = ":ufw6-user-input - [0:0]\n### tuple ### deny tcp 11434 ::/0 any ::/0 in comment=%s\n" % HEX
    assert network.ufw_missing_rules([on_top, on_top6], [deny], in_place=True) == []
    assert network.ufw_missing_rules([on_top, on_top6], [dict(deny, comment="")], in_place=True) == [dict(deny, comment="")]


def test_ufw_settings():
    conf = "# /etc/ufw/ufw.conf\n\nENABLED=yes\nLOGLEVEL=low\n"
    default = 'IPV6=yes\nDEFAULT_INPUT_POLICY="DROP"\nDEFAULT_OUTPUT_POLICY="ACCEPT"\n#DEFAULT_X="no"\n'
    assert network.ufw_settings([conf, default]) == {"ENABLED": "yes", "LOGLEVEL": "low", "IPV6": "yes",
                                                     "DEFAULT_INPUT_POLICY": "DROP", "DEFAULT_OUTPUT_POLICY": "ACCEPT"}
    assert network.ufw_settings([]) == {}
