"""Checks of the firewall scenario, run from the controller, fw-compose and its neighbour fw-client.

fw-compose runs Ollama in compose mode (Docker 26, published on 127.0.0.1:11434) and is managed over SSH
on port 2222, which only the live connection tells; prepare added broad allow rules by hand (Ollama's port
from anywhere, everything from fw-client) and recorded that fw-client, routing the container subnet
through fw-compose, got an answer from Ollama's container before the firewall.
"""
import ipaddress
import json
import os
import re
import socket
import subprocess

import pytest
import testinfra
import yaml

SERVER = testinfra.get_host("docker://fw-compose")
CLIENT = testinfra.get_host("docker://fw-client")
EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
NETWORK = "molecule-firewall"


def instance(name):
    with open(os.path.join(EPHEMERAL, "instance_config.yml")) as handle:
        return next(item for item in yaml.safe_load(handle) if item["instance"] == name)


def address_of(name):
    inspect = json.loads(subprocess.check_output(["docker", "inspect", name]))
    return inspect[0]["NetworkSettings"]["Networks"][NETWORK]["IPAddress"]


def ufw_rules():
    """`ufw status numbered` as (number, to, action, from) tuples."""
    rules = []
    for line in SERVER.check_output("ufw status numbered").splitlines():
        match = re.match(r"^\[ *(\d+)\] (.+?)\s{2,}(ALLOW IN|DENY IN|LIMIT IN)\s+(.+?)(\s+#.*)?$", line)
        if match:
            rules.append((int(match.group(1)), match.group(2).strip(), match.group(3), match.group(4).strip()))
    return rules


def connects(host, port, timeout=3):
    """From the controller: True when a TCP connection is accepted, False when it times out or is refused."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def listeners():
    """Throwaway TCP listeners on fw-compose's own address: Ollama's port, and 8099 which no rule names."""
    address = address_of("fw-compose")
    for port in (11434, 8099):
        SERVER.check_output("systemd-run --unit fw-test-listen-%d python3 -m http.server %d --bind %s" % (port, port, address))
    SERVER.check_output("for i in $(seq 50); do ss -ltn | grep -q '%s:8099' && ss -ltn | grep -q '%s:11434' && exit 0; "
                        "sleep 0.2; done; exit 1" % (address, address))
    yield address
    for port in (11434, 8099):
        SERVER.run("systemctl stop fw-test-listen-%d" % port)


def test_new_ssh_session_on_the_port_only_the_connection_tells():
    config = instance("fw-compose")
    assert (config["user"], config["port"], config["connection"]) == ("molecule", 2222, "ssh")
    # sshd_config says 22: the rule for 2222 can only come from the live connection
    assert "port 22" in SERVER.check_output("sshd -T").splitlines()
    ssh = subprocess.run(
        ["ssh", "-p", "2222", "-i", config["identity_file"], "-o", "ControlPath=none", "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10",
         "molecule@" + config["address"], "sudo -n ufw status"],
        capture_output=True, text=True, timeout=60, check=False)
    assert ssh.returncode == 0, ssh.stderr
    assert "Status: active" in ssh.stdout


def test_ssh_ports_from_the_connection_and_from_sshd():
    rules = ufw_rules()
    for port in ("2222/tcp", "22/tcp"):
        assert (port, "ALLOW IN", "Anywhere") in [rule[1:] for rule in rules]
        assert (port + " (v6)", "ALLOW IN", "Anywhere (v6)") in [rule[1:] for rule in rules]


def test_the_controller_gets_only_what_the_rules_allow(listeners):
    # the controller is in no rule added by hand: SSH answers because of the role's rule, 8099 does not
    status = SERVER.check_output("ufw status verbose")
    assert "Status: active" in status and "Default: deny (incoming)" in status
    assert connects(listeners, 2222)
    assert not connects(listeners, 8099)


def test_deny_ollama_sits_before_the_broad_allows_added_by_hand():
    neighbour = address_of("fw-client")
    rules = ufw_rules()
    numbers = {rule[1:]: rule[0] for rule in rules}
    deny = numbers[("11434/tcp", "DENY IN", "Anywhere")]
    deny6 = numbers[("11434/tcp (v6)", "DENY IN", "Anywhere (v6)")]
    assert deny == 1
    assert deny < numbers[("11434", "ALLOW IN", "Anywhere")] < deny6
    assert deny < numbers[("Anywhere", "ALLOW IN", neighbour)]
    assert deny6 == min(number for number, to, _action, _src in rules if "(v6)" in to)
    assert deny6 < numbers[("11434 (v6)", "ALLOW IN", "Anywhere (v6)")]
    # the hand-made "allow 11434/tcp" matched the same traffic: replaced by the deny, in both families
    assert not [rule for rule in rules if rule[1].startswith("11434/tcp") and rule[2] == "ALLOW IN"]


def test_broad_allow_cannot_expose_ollamas_port(listeners):
    # 8099: the neighbour's broad allow works; 11434 on the host's own address: the deny wins
    assert CLIENT.run("curl -sS --max-time 5 -o /dev/null http://%s:8099/" % listeners).rc == 0
    assert CLIENT.run("curl -sS --max-time 5 -o /dev/null http://%s:11434/" % listeners).rc == 28


def test_ipv6_filtered():
    assert "IPV6=yes" in SERVER.file("/etc/default/ufw").content_string.splitlines()
    rules = SERVER.check_output("ip6tables -S ufw6-user-input")
    assert re.search(r"-p tcp .*--dport 11434 -j DROP", rules)
    assert re.search(r"-p tcp .*--dport 2222 -j ACCEPT", rules)


def docker_bridge_subnets():
    ids = SERVER.check_output("docker network ls --quiet --filter driver=bridge").split()
    networks = json.loads(SERVER.check_output("docker network inspect " + " ".join(ids)))
    return {config["Subnet"] for network in networks for config in network["IPAM"]["Config"]}


def test_docker_user_rules_limited_to_the_host_bridges():
    subnets = docker_bridge_subnets()
    assert len(subnets) >= 2  # docker0 and the compose project's network
    rules = SERVER.check_output("iptables -S DOCKER-USER")
    assert rules.splitlines()[1] == "-A DOCKER-USER -j ufw-user-forward"
    trusted = set(re.findall(r"^-A DOCKER-USER -s (\S+) -j RETURN$", rules, re.M))
    dropped = set(re.findall(r"^-A DOCKER-USER -d (\S+) -p tcp .*-j ufw-docker-logging-deny$", rules, re.M))
    assert trusted == dropped == subnets
    neighbour = ipaddress.ip_address(address_of("fw-client"))
    assert not any(neighbour in ipaddress.ip_network(subnet) for subnet in trusted)


def test_neighbour_routing_to_the_container_gets_no_answer():
    with open(os.path.join(EPHEMERAL, "bypass-before-firewall.json")) as handle:
        before = json.load(handle)
    # the positive control: the same request was answered before the firewall
    assert before["answer"] == {"version": "0.32.15"}
    container = json.loads(SERVER.check_output("docker inspect ollama"))[0]
    network = next(iter(container["NetworkSettings"]["Networks"].values()))
    target = network["IPAddress"]
    assert before["url"] == "http://%s:11434/api/version" % target
    server = address_of("fw-compose")
    assert ("via %s " % server) in CLIENT.check_output("ip route get %s" % target)
    # Ollama still serves where it is published
    assert "0.32.15" in SERVER.check_output("curl -sS --max-time 5 http://127.0.0.1:11434/api/version")
    dropped_before = dropped_packets()
    answer = CLIENT.run("curl -sS --max-time 5 http://%s:11434/api/version" % target)
    assert answer.rc == 28, answer.stdout  # timed out: dropped, no answer
    assert dropped_packets() > dropped_before


def dropped_packets():
    chain = SERVER.check_output("iptables -nvx -L ufw-docker-logging-deny")
    drop = [line.split() for line in chain.splitlines() if " DROP " in " %s " % line]
    return int(drop[-1][0])
