# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gateway's routing table: serving hosts and the models they declare in, upstream pools out."""

from __future__ import annotations

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

    backends: [{name, address, port, tls_name, models: [names], drained: bool}] in inventory order.
    Returns {hosts: [{id, name, address, port, tls_name, drained}], pools: [{id, hosts: [host ids]}],
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
        hosts.append(dict(id=host_id, name=backend['name'], address=str(backend['address']), port=int(backend['port']),
                          tls_name=backend['tls_name'], drained=bool(backend.get('drained'))))
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


class FilterModule:
    def filters(self):
        return {'gateway_routes': gateway_routes, 'gateway_model_key': gateway_model_key}
