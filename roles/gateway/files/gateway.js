// llmops.ollama gateway: routes each Ollama / OpenAI API request to a serving host that has the model
// named in it. Nginx carries the request to HAProxy (balancing, health checks, retries, the queue); this module only reads the body, picks the
// pool and answers what no single host can: model lists over the whole fleet, unknown models, the gateway's /healthz.
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

// The pool's backend in HAProxy, which picks the host (least requests in progress, healthy, not drained), queues
// when every host is at its capacity, and retries elsewhere what failed before a host started answering. Model
// management (the admin routes) has a backend of its own that never sends a request twice.
function toPool(r, poolId) {
    r.internalRedirect('@llmops_gateway_' + poolId + (r.variables.llmops_gateway_admin === 'admin' ? '_admin' : ''));
}

function BadRequest(message) {
    this.message = message;
}

// The model a request names: in the JSON body (model, or the older name / source fields), or in the path of
// /v1/models/<model>. A body that is not JSON, or names the model in two spellings of one field (Ollama reads
// JSON keys without regard to case, so {"model":"a","MODEL":"b"} would run b where a is routed), is refused.
function requestedModel(r) {
    var match = r.uri.match(/^\/v1\/models\/(.+)$/);
    if (match) {
        // r.uri is decoded already: the name is used as it is.
        return match[1];
    }
    if (!r.requestText) {
        return '';
    }
    var body;
    try {
        body = JSON.parse(r.requestText);
    } catch (e) {
        throw new BadRequest('the request body is not valid JSON');
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
        throw new BadRequest('the request body must be a JSON object');
    }
    var fields = ['model', 'name', 'source'];
    Object.keys(body).forEach(function (key) {
        var lower = key.toLowerCase();
        if (fields.indexOf(lower) >= 0 && key !== lower) {
            throw new BadRequest('"' + key + '": write the field as "' + lower + '"');
        }
    });
    var model = body.model || body.name || body.source || '';
    return typeof model === 'string' ? model : '';
}

// GET /api/tags, /api/ps and /v1/models: every host's answer merged, as one Ollama would answer. Hosts that are
// down or drained answer at once from HAProxy (503) and are left out.
function union(r, path) {
    var calls = ROUTES.hosts.map(function (host) {
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
            sendError(r, 503, 'no serving host is available right now; try again in a few seconds');
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
    var model;
    try {
        model = requestedModel(r);
    } catch (e) {
        if (e instanceof BadRequest) {
            sendError(r, 400, e.message);
            return;
        }
        throw e;
    }
    if (!model) {
        // Nothing to route by (/api/version, or a request the server itself will refuse with its own words).
        toPool(r, ROUTES.any_pool);
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
    toPool(r, poolId);
}

// The serving hosts' states as HAProxy's health checks see them (one local request, no fan-out): how many are up,
// drained or down; no names, no versions.
function hostStates(csv) {
    var states = {up: 0, drained: 0, down: 0};
    var lines = csv.split('\n');
    var header = (lines.shift() || '').replace(/^# /, '').split(',');
    var proxy = header.indexOf('pxname'), server = header.indexOf('svname'), status = header.indexOf('status');
    lines.forEach(function (line) {
        var fields = line.split(',');
        if (fields.length <= status || fields[proxy].indexOf('host_') !== 0 || fields[server] === 'BACKEND') {
            return;
        }
        var state = fields[status];
        if (state.indexOf('MAINT') === 0 || state.indexOf('DRAIN') === 0) {
            states.drained += 1;
        } else if (state === 'UP' || state.indexOf('UP ') === 0 || state === 'no check') {
            states.up += 1;
        } else {
            states.down += 1;
        }
    });
    return states;
}

function healthz(r) {
    r.subrequest('/_llmops_gateway/state', {method: 'GET'}).then(function (reply) {
        var states = reply.status === 200 ? hostStates(reply.responseText)
                                          : {up: 0, drained: 0, down: ROUTES.hosts.length};
        r.headersOut['Cache-Control'] = 'no-store';
        sendJson(r, states.up > 0 ? 200 : 503, {
            status: states.up > 0 ? 'ok' : 'unavailable',
            serving_hosts: states.up + states.drained + states.down,
            up: states.up,
            drained: states.drained,
            down: states.down,
        });
    }, function () {
        sendError(r, 503, 'the gateway cannot read its serving hosts\' states');
    });
}

export default {route, healthz, modelKey, hostStates};
