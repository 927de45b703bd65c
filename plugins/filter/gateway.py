# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway's routing table: serving hosts and the models they declare in, upstream pools out."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.module_utils.model_name import ModelName


def gateway_model_key(name):
    """The key a model is routed by: Ollama's display form (`llama3.2:latest`, `ns/m:t`), lower case,
    because Ollama matches names case-insensitively. files/gateway.js computes the same key."""
    if not isinstance(name, str) or not name.strip():
        raise AnsibleFilterError('gateway: a model name is empty')
    return ModelName.parse_bare(name.strip()).display.lower()


def gateway_routes(backends):
    """Group serving hosts into upstream pools, one per distinct set of hosts that serve a model.

    backends: [{name, address, port, tls_name, models: [names], drained: bool, max_connections: int}] in inventory order.
    Returns {hosts: [{id, name, address, port, tls_name, drained, max_connections}], pools: [{id, hosts: [host ids]}],
    models: {model key: pool id}, any_pool: pool id of all hosts (requests that name no model)}.
    """
    if not isinstance(backends, list) or not backends:
        raise AnsibleFilterError('gateway: no serving hosts: put hosts in the ollama_servers group or set gateway_serving_hosts')
    hosts = []
    hosts_of_model = {}
    for index, backend in enumerate(backends):
        for field in ('name', 'address', 'port', 'tls_name'):
            if not backend.get(field):
                raise AnsibleFilterError('gateway: serving host %r has no %s' % (backend.get('name'), field))
        host_id = 'h%d' % index
        max_connections = backend.get('max_connections', 1)
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1:
            raise AnsibleFilterError('gateway: serving host %r: max_connections must be a whole number of 1 or more, got %r'
                                     % (backend['name'], max_connections))
        hosts.append(dict(id=host_id, name=backend['name'], address=str(backend['address']), port=int(backend['port']),
                          tls_name=backend['tls_name'], drained=bool(backend.get('drained')), max_connections=max_connections))
        for model in backend.get('models') or []:
            ids = hosts_of_model.setdefault(gateway_model_key(model), [])
            if host_id not in ids:
                ids.append(host_id)
    pools = []
    pool_of_hosts = {}

    def pool_for(host_ids):
        key = tuple(host_ids)
        if key not in pool_of_hosts:
            pool_of_hosts[key] = 'p%d' % len(pools)
            pools.append(dict(id=pool_of_hosts[key], hosts=list(key)))
        return pool_of_hosts[key]

    any_pool = pool_for([host['id'] for host in hosts])
    models = dict((model, pool_for(ids)) for model, ids in sorted(hosts_of_model.items()))
    return dict(hosts=hosts, pools=pools, models=models, any_pool=any_pool)


def gateway_mark_drained(hosts, drained_names):
    """The routing table's hosts with `drained` set for exactly the hosts named (tasks/drain.yml)."""
    names = set(drained_names or [])
    return [dict(host, drained=host['name'] in names) for host in hosts]


def haproxy_sessions(csv_text, server_ids):
    """Requests in progress (scur) on the given servers, summed over every backend (HAProxy's `show stat` CSV)."""
    lines = [line for line in (csv_text or '').splitlines() if line.strip()]
    if not lines:
        raise AnsibleFilterError('gateway: HAProxy sent no state (an empty CSV)')
    header = lines[0].lstrip('# ').split(',')
    try:
        server, current = header.index('svname'), header.index('scur')
    except ValueError:
        raise AnsibleFilterError('gateway: not HAProxy\'s state CSV: %s' % lines[0][:80])
    wanted = set(server_ids)
    total = 0
    for line in lines[1:]:
        fields = line.split(',')
        if len(fields) > current and fields[server] in wanted and fields[current].isdigit():
            total += int(fields[current])
    return total


def gateway_vrrp_address(facts, virtual_address):
    """The interface and IPv4 address of this host on the network of the floating address (CIDR), from its facts:
    {interface, address}. VRRP runs there, and the floating address is added to that interface."""
    try:
        network = ipaddress.ip_interface(str(virtual_address)).network
    except ValueError:
        raise AnsibleFilterError('gateway: gateway_virtual_address must be an IPv4 address with its prefix, e.g. '
                                 '10.0.0.100/24: %r' % (virtual_address,))
    if network.version != 4 or network.prefixlen == 32:
        raise AnsibleFilterError('gateway: gateway_virtual_address must be an IPv4 address with the prefix of its network '
                                 '(e.g. 10.0.0.100/24): %r' % (virtual_address,))
    for name in (facts or {}).get('interfaces', []):
        ipv4 = (facts.get(name.replace('-', '_')) or {}).get('ipv4') or {}
        if ipv4.get('address') and ipaddress.ip_address(ipv4['address']) in network:
            return dict(interface=name, address=ipv4['address'])
    raise AnsibleFilterError('gateway: no interface of this host has an address in %s (gateway_virtual_address %s): '
                             'the gateways and their floating address must share a network' % (network, virtual_address))


class FilterModule:
    def filters(self):
        return {'gateway_routes': gateway_routes, 'gateway_model_key': gateway_model_key,
                'gateway_mark_drained': gateway_mark_drained, 'haproxy_sessions': haproxy_sessions,
                'gateway_vrrp_address': gateway_vrrp_address}
