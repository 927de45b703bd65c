// llmops.ollama gateway: routes each Ollama / OpenAI API request to a serving host that has the model
// named in it. Nginx (upstream blocks with least_conn, passive health, TLS to the hosts) carries the
// request; this module only reads the body, picks the upstream pool and answers what no single host
// can: model lists over the whole fleet, unknown models, and the gateway's own /healthz.
// The routing table (routes.json) is written by the gateway role and read once per nginx (re)load.
import fs from 'fs';

var ROUTES = JSON.parse(fs.readFileSync('/etc/nginx/llmops-gateway/routes.json', 'utf8'));

// Ollama's display form of a model name in lower case, as the role's gateway_model_key filter keys it:
// [scheme://][host/][namespace/]model[:tag], defaults registry.ollama.ai / library / latest.
function modelKey(name) {
    var rest = String(name).trim();
    var tag = 'latest';
    var colon = rest.lastIndexOf(':');
    if (colon > rest.lastIndexOf('/')) {
        tag = rest.slice(colon + 1);
        rest = rest.slice(0, colon);
    }
    var scheme = rest.indexOf('://');
    if (scheme >= 0) {
        rest = rest.slice(scheme + 3);
    }
    var parts = rest.split('/');
    var model = parts.pop();
    var namespace = parts.length ? parts.pop() : 'library';
    var host = parts.length ? parts.join('/') : 'registry.ollama.ai';
    var display;
    if (host.toLowerCase() !== 'registry.ollama.ai') {
        display = host + '/' + namespace + '/' + model + ':' + tag;
    } else if (namespace.toLowerCase() !== 'library') {
        display = namespace + '/' + model + ':' + tag;
    } else {
        display = model + ':' + tag;
    }
    return display.toLowerCase();
}

function isOpenAI(r) {
    return r.uri.indexOf('/v1/') === 0;
}

function sendJson(r, status, value) {
    r.headersOut['Content-Type'] = 'application/json; charset=utf-8';
    r.return(status, JSON.stringify(value) + '\n');
}

// Errors in the shape the client of each API reads.
function sendError(r, status, message) {
    if (isOpenAI(r)) {
        var type = status === 404 ? 'not_found_error' : (status === 400 ? 'invalid_request_error' : 'api_error');
        sendJson(r, status, {error: {message: message, type: type, param: null, code: null}});
    } else {
        sendJson(r, status, {error: message});
    }
}

function poolHosts(poolId) {
    for (var i = 0; i < ROUTES.pools.length; i++) {
        if (ROUTES.pools[i].id === poolId) {
            return ROUTES.pools[i].hosts;
        }
    }
    return [];
}

function liveHosts() {
    return ROUTES.hosts.filter(function (host) { return !host.drained; });
}

function toPool(r, poolId, model) {
    var live = poolHosts(poolId).filter(function (id) {
        return ROUTES.hosts.some(function (host) { return host.id === id && !host.drained; });
    });
    if (!live.length) {
        sendError(r, 503, model ? "no serving host is available for model '" + model + "' right now, try again later"
                                : 'no serving host is available right now, try again later');
        return;
    }
    r.internalRedirect('@llmops_gateway_' + poolId);
}

// The model a request names: in the JSON body (model, or the older name / source fields), or in the
// path of /v1/models/<model>.
function requestedModel(r) {
    var match = r.uri.match(/^\/v1\/models\/(.+)$/);
    if (match) {
        return decodeURIComponent(match[1]);
    }
    if (!r.requestText) {
        return '';
    }
    var body;
    try {
        body = JSON.parse(r.requestText);
    } catch (e) {
        return '';
    }
    if (!body || typeof body !== 'object') {
        return '';
    }
    var model = body.model || body.name || body.source || '';
    return typeof model === 'string' ? model : '';
}

// GET /api/tags, /api/ps and /v1/models: every live host's answer merged, as one Ollama would answer.
function union(r, path) {
    var hosts = liveHosts();
    var calls = hosts.map(function (host) {
        return r.subrequest('/_llmops_gateway/' + host.id + path, {method: 'GET'})
            .then(function (reply) {
                if (reply.status !== 200) {
                    return null;
                }
                try {
                    return JSON.parse(reply.responseText);
                } catch (e) {
                    return null;
                }
            }, function () { return null; });
    });
    Promise.all(calls).then(function (answers) {
        var answered = answers.filter(function (answer) { return answer !== null; });
        if (!answered.length) {
            sendError(r, 502, 'no serving host answered');
            return;
        }
        var seen = {};
        if (path === '/v1/models') {
            var data = [];
            answered.forEach(function (answer) {
                (answer.data || []).forEach(function (model) {
                    if (!seen[model.id]) {
                        seen[model.id] = true;
                        data.push(model);
                    }
                });
            });
            sendJson(r, 200, {object: 'list', data: data.length ? data : null});
            return;
        }
        var models = [];
        answered.forEach(function (answer) {
            (answer.models || []).forEach(function (model) {
                var key = modelKey(model.name || model.model || '');
                if (!seen[key]) {
                    seen[key] = true;
                    models.push(model);
                }
            });
        });
        if (path === '/api/tags') {
            models.sort(function (a, b) {
                var x = String(a.modified_at), y = String(b.modified_at);
                return x < y ? 1 : (x > y ? -1 : 0);
            });
        }
        sendJson(r, 200, {models: models});
    });
}

function route(r) {
    var method = r.method;
    if ((method === 'GET' || method === 'HEAD') && (r.uri === '/api/tags' || r.uri === '/api/ps' || r.uri === '/v1/models')) {
        union(r, r.uri);
        return;
    }
    var model = requestedModel(r);
    if (!model) {
        // Nothing to route by (/api/version, or a request the server itself will refuse with its own words).
        toPool(r, ROUTES.any_pool, '');
        return;
    }
    var poolId = ROUTES.models[modelKey(model)];
    if (!poolId) {
        if (isOpenAI(r)) {
            sendError(r, 404, 'model "' + model + '" not found');
        } else {
            sendError(r, 404, "model '" + model + "' not found");
        }
        return;
    }
    toPool(r, poolId, model);
}

// How many serving hosts answer their own /healthz; no names, no versions.
function healthz(r) {
    var calls = ROUTES.hosts.map(function (host) {
        if (host.drained) {
            return Promise.resolve('drained');
        }
        return r.subrequest('/_llmops_gateway/' + host.id + '/healthz', {method: 'GET'})
            .then(function (reply) { return reply.status === 200 ? 'up' : 'down'; }, function () { return 'down'; });
    });
    Promise.all(calls).then(function (states) {
        var count = function (state) { return states.filter(function (s) { return s === state; }).length; };
        var up = count('up');
        r.headersOut['Cache-Control'] = 'no-store';
        sendJson(r, up > 0 ? 200 : 503, {
            status: up > 0 ? 'ok' : 'unavailable',
            serving_hosts: states.length,
            up: up,
            drained: count('drained'),
            down: count('down'),
        });
    });
}

export default {route, healthz, modelKey};
