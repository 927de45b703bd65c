"""The Ollama HTTP API (server/routes.go and openai/openai.go), answered from the on-disk store."""
import ipaddress
import json
import os
import random
import re
import socket
import sys
import time

from . import BROKEN, VERSION, envconfig, gguf
from .engine import ApiError, RunnerFailed, Scheduler, count_tokens, embedding, float32_base64, generate_tokens, token_ids
from .httpbase import Handler, Server
from .names import Name
from .store import CONFIG_MEDIA_TYPE, MEDIA_PREFIX, InvalidDigest, Store
from .transfer import Cancelled, TransferError, pull, push
from .wire import MAX_DURATION_NS, go_json, go_quote, keep_alive_ns, rfc3339

JSON_TYPE = "application/json; charset=utf-8"
NDJSON_TYPE = "application/x-ndjson"
DEFAULT_TEMPLATE = "{{ .Prompt }}"
CORS_HEADERS = ("Authorization, Content-Type, User-Agent, Accept, X-Requested-With, OpenAI-Beta, x-stainless-arch, "
                "x-stainless-async, x-stainless-custom-poll-interval, x-stainless-helper-method, x-stainless-lang, "
                "x-stainless-os, x-stainless-package-version, x-stainless-poll-helper, x-stainless-retry-count, "
                "x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout")
# Go type names for the request fields we type-check, so decode errors read like encoding/json's.
_GO_TYPES = {str: "string", bool: "bool", list: "array", dict: "object", int: "number", float: "number", type(None): "null"}
_SCHEMAS = {
    "GenerateRequest": {"model": str, "prompt": str, "suffix": str, "system": str, "template": str, "stream": bool, "raw": bool,
                        "context": list, "images": list, "options": dict},
    "ChatRequest": {"model": str, "messages": list, "stream": bool, "tools": list, "options": dict},
    "EmbedRequest": {"model": str, "truncate": bool, "dimensions": int, "options": dict},
    "EmbeddingRequest": {"model": str, "prompt": str, "options": dict},
    "PullRequest": {"model": str, "name": str, "insecure": bool, "stream": bool},
    "PushRequest": {"model": str, "name": str, "insecure": bool, "stream": bool},
    "CreateRequest": {"model": str, "name": str, "from": str, "files": dict, "adapters": dict, "template": str, "system": str,
                      "parameters": dict, "messages": list, "quantize": str, "stream": bool},
    "DeleteRequest": {"model": str, "name": str},
    "CopyRequest": {"source": str, "destination": str},
    "ShowRequest": {"model": str, "name": str, "verbose": bool, "system": str},
}
_GO_FIELD_TYPES = {str: "string", bool: "bool", list: "[]", dict: "map[string]interface {}", int: "int"}


def log(level, source, msg, **attrs):
    """One line in slog's text format, as the real server writes to stderr."""
    now = time.time_ns()
    stamp = rfc3339(now - now % 10 ** 6)
    extra = "".join(" %s=%s" % (k, _slog_value(v)) for k, v in attrs.items())
    sys.stderr.write("time=%s level=%s source=%s msg=%s%s\n" % (stamp, level, source, _slog_value(msg), extra))
    sys.stderr.flush()


def _slog_value(v):
    text = str(v)
    return go_quote(text) if (not text or re.search(r'[\s"=]', text)) else text


def _drain(gen, on_token):
    """Pass each token of a generation to `on_token`; return the generator's return value (its metrics)."""
    while True:
        try:
            tok = next(gen)
        except StopIteration as stop:
            return stop.value
        on_token(tok)


def _origin_allowed(origin, allowed):
    for pattern in allowed:
        if pattern == "*" or pattern == origin:
            return True
        if "*" in pattern:
            head, unused_sep, tail = pattern.partition("*")
            if origin.startswith(head) and origin.endswith(tail) and len(origin) >= len(head) + len(tail):
                return True
    return False


def _local_host(host):
    """allowedHostsMiddleware: which Host headers a loopback-bound server accepts."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
        return ip.is_loopback or ip.is_private or ip.is_unspecified
    except ValueError:
        pass
    host = host.lower()
    if host in ("", "localhost", socket.gethostname().lower()):
        return True
    return any(host.endswith("." + tld) for tld in ("localhost", "local", "internal"))


class App:
    """State shared by all requests of one server."""

    def __init__(self, models_dir):
        self.store = Store(models_dir)
        self.noprune = envconfig.boolean("OLLAMA_NOPRUNE")
        self.keep_alive_default = envconfig.keep_alive_ns()
        self.origins = envconfig.allowed_origins()
        self.tokens_per_second, self.pace = envconfig.tokens_per_second()
        self.scheduler = Scheduler(envconfig.uint("OLLAMA_NUM_PARALLEL", 1), envconfig.uint("OLLAMA_MAX_QUEUE", 512),
                                   envconfig.processor(), envconfig.context_length(), envconfig.fail_load())
        self.loopback = True


class Emitter:
    """Status messages of pull/push/create: NDJSON while streaming, else only the last one (waitForStream)."""

    def __init__(self, handler, streaming):
        self.handler = handler
        self.streaming = streaming
        self.started = False
        self.last = None

    def __call__(self, msg):
        self.last = msg
        if not self.streaming:
            return
        try:
            if not self.started:
                self.handler.start_chunked(200, NDJSON_TYPE)
                self.started = True
            self.handler.write_chunk(go_json(msg).encode() + b"\n")
        except OSError as exc:
            self.handler.close_connection = True
            raise Cancelled() from exc

    def finish(self, error=None, status=None):
        h = self.handler
        if error is not None and not self.started:
            # Since v0.12.6 an error before any output gets a real status code; an unspecified one is a 500.
            return h.error(status or 500, error)
        if self.streaming:
            if not self.started:
                h.start_chunked(200, NDJSON_TYPE)
            if error is not None:
                h.write_chunk(go_json({"error": error}).encode() + b"\n")
            h.end_chunked()
        else:
            h.json(200, self.last)


class ApiHandler(Handler):
    openai = False

    # plumbing

    def end_headers(self):
        for key, value in getattr(self, "extra_headers", []):
            self.send_header(key, value)
        super().end_headers()

    def json(self, status, obj):
        self.send_bytes(status, go_json(obj).encode(), JSON_TYPE)

    def error(self, status, message):
        if self.openai:
            kind = {400: "invalid_request_error", 404: "not_found_error"}.get(status, "api_error")
            return self.json(status, {"error": {"message": message, "type": kind, "param": None, "code": None}})
        self.json(status, {"error": message})

    def text(self, status, body):
        self.send_bytes(status, body.encode(), "text/plain")

    def body(self, struct):
        raw = self.read_body()
        if not raw.strip():
            raise ApiError(400, "missing request body" if not self.openai else "EOF")
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, _decode_error(raw, exc)) from exc
        if not isinstance(doc, dict):
            raise ApiError(400, "json: cannot unmarshal %s into Go value of type api.%s" % (_GO_TYPES.get(type(doc), "value"), struct))
        for field, typ in _SCHEMAS.get(struct, {}).items():
            value = doc.get(field)
            ok = value is None or isinstance(value, typ) and not (typ is int and isinstance(value, bool))
            if typ is int and isinstance(value, float) and value.is_integer():
                ok = True
            if not ok:
                raise ApiError(400, "json: cannot unmarshal %s into Go struct field %s.%s of type %s" % (
                    _GO_TYPES.get(type(value), "value"), struct, field, _GO_FIELD_TYPES[typ]))
        return doc

    def keep_alive(self, req):
        try:
            return keep_alive_ns(req.get("keep_alive"), self.app.keep_alive_default)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc

    def find(self, name):
        try:
            return self.app.store.get(name)
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None

    @property
    def app(self):
        return self.server.app

    # dispatch

    def do_GET(self):
        self.dispatch()

    do_HEAD = do_POST = do_DELETE = do_PUT = do_PATCH = do_OPTIONS = do_GET

    def dispatch(self):
        started = time.monotonic()
        path = self.path.split("?", 1)[0]
        self.extra_headers = []
        self.status = 0
        try:
            if self.cors_and_host_guard():
                self.route(path)
        except ApiError as exc:
            self.error(exc.status, exc.message)
        except (BrokenPipeError, ConnectionResetError, Cancelled):
            self.close_connection = True
        except Exception as exc:  # noqa: BLE001 - gin's recovery middleware turns panics into 500s too
            log("ERROR", "routes.go:100", "request failed", error=repr(exc))
            self.close_connection = True
            if not self.status:
                self.error(500, str(exc))
        elapsed = time.monotonic() - started
        sys.stderr.write('[GIN] %s | %3d | %13s | %15s | %-7s "%s"\n' % (
            time.strftime("%Y/%m/%d - %H:%M:%S"), self.status, _go_elapsed(elapsed), self.client_address[0], self.command, path))

    def cors_and_host_guard(self):
        origin = self.headers.get("Origin")
        host = self.headers.get("Host") or ""
        if origin and origin not in ("http://" + host, "https://" + host):
            if not _origin_allowed(origin, self.app.origins):
                self.send_bytes(403)
                return False
            self.extra_headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
            if self.command == "OPTIONS":
                self.extra_headers += [("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"),
                                       ("Access-Control-Allow-Headers", CORS_HEADERS), ("Access-Control-Max-Age", "43200")]
                self.send_bytes(204)
                return False
        if self.app.loopback:
            hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if not _local_host(hostname):
                self.send_bytes(403)
                return False
        return True

    def route(self, path):
        for pattern, methods in ROUTES:
            m = pattern.match(path)
            if not m:
                continue
            handler = methods.get(self.command)
            if handler is None:
                return self.text(405, "405 method not allowed")
            self.openai = path.startswith("/v1/")
            try:
                return handler(self, *m.groups())
            except ApiError as exc:
                return self.error(exc.status, exc.message)
        if path.endswith("/") and len(path) > 1 and any(p.match(path[:-1]) for p, unused_handler in ROUTES):
            return self.send_bytes(301 if self.command == "GET" else 307, b"", None, {"Location": path[:-1]})
        self.text(404, "404 page not found")

    # basic

    def h_root(self):
        self.text(200, "Ollama is running")

    def h_version(self):
        self.json(200, {"version": VERSION})

    def h_tags(self):
        entries = sorted(self.app.store.entries(), key=lambda e: e.modified_ns, reverse=True)
        self.json(200, {"models": [self.model_summary(e) for e in entries]})

    def model_summary(self, entry):
        shown = entry.name.display_shortest()
        return {"name": shown, "model": shown, "modified_at": rfc3339(entry.modified_ns), "size": entry.size,
                "digest": entry.digest, "details": self.details(entry), "capabilities": self.capabilities(entry)}

    def config_of(self, entry):
        try:
            return json.loads(self.app.store.read_blob(entry.manifest["config"]["digest"]))
        except (OSError, ValueError, KeyError):
            return {}

    def details(self, entry):
        config = self.config_of(entry)
        model_layer = entry.layer("model") or {}
        return {"parent_model": model_layer.get("from", ""), "format": config.get("model_format", ""),
                "family": config.get("model_family", ""), "families": config.get("model_families"),
                "parameter_size": config.get("model_type", ""), "quantization_level": config.get("file_type", "")}

    def layer_text(self, entry, kind):
        texts = [self.app.store.read_blob(layer["digest"]).decode("utf-8", "replace")
                 for layer in entry.layers() if layer.get("mediaType") == MEDIA_PREFIX + kind]
        return texts

    def metadata(self, entry):
        layer = entry.layer("model")
        if not layer:
            return {}
        try:
            return gguf.read_metadata(self.app.store.blob_path(layer["digest"])) or {}
        except OSError:
            return {}

    def capabilities(self, entry):
        kv = self.metadata(entry)
        arch = kv.get("general.architecture", "")
        caps = ["embedding"] if "%s.pooling_type" % arch in kv else ["completion"]
        template = "".join(self.layer_text(entry, "template"))
        if ".Tools" in template:
            caps.append("tools")
        if ".Suffix" in template:
            caps.append("insert")
        if entry.layer("projector"):
            caps.append("vision")
        if ".Thinking" in template:
            caps.append("thinking")
        return caps

    def params(self, entry):
        params = {}
        for text in self.layer_text(entry, "params"):
            try:
                params.update(json.loads(text))
            except ValueError:
                pass
        return params

    # model management

    @staticmethod
    def request_name(req, required=False):
        """The model named by a request (`model`, or the deprecated `name`), parsed and validated."""
        model = req.get("model") or req.get("name") or ""
        if required and not model:
            raise ApiError(400, "model is required")
        name = Name.parse(model)
        if not name.is_valid():
            raise ApiError(400, "invalid model name")
        return model, name

    def h_show(self):
        req = self.body("ShowRequest")
        model, name = self.request_name(req, required=True)
        entry = self.find(name)
        if entry is None:
            raise ApiError(404, "model '%s' not found" % model)
        self.json(200, self.show_response(entry, req))

    def show_response(self, entry, req):
        params = self.params(entry)
        templates = self.layer_text(entry, "template")
        template = templates[0] if templates else DEFAULT_TEMPLATE
        system = req.get("system") or "".join(self.layer_text(entry, "system"))
        licenses = self.layer_text(entry, "license")
        messages = []
        for text in self.layer_text(entry, "messages"):
            try:
                messages += json.loads(text)
            except ValueError:
                pass
        lines = []
        for key in sorted(params):
            for value in params[key] if isinstance(params[key], list) else [params[key]]:
                lines.append("%-30s %s" % (key, go_quote(value) if isinstance(value, str) else _go_value(value)))
        resp = {}
        if licenses:
            resp["license"] = "\n".join(licenses)
        resp["modelfile"] = self.modelfile(entry, template, system, params, licenses, messages)
        if lines:
            resp["parameters"] = "\n".join(lines)
        resp["template"] = template
        if system:
            resp["system"] = system
        resp["details"] = self.details(entry)
        if messages:
            resp["messages"] = messages
        resp["model_info"] = self.metadata(entry)
        resp["capabilities"] = self.capabilities(entry)
        resp["modified_at"] = rfc3339(entry.modified_ns)
        return resp

    def modelfile(self, entry, template, system, params, licenses, messages):
        model_layer = entry.layer("model")
        lines = ['# Modelfile generated by "ollama show"', "# To build a new Modelfile based on this, replace FROM with:",
                 "# FROM %s" % entry.name.display_shortest(), ""]
        commands = ["FROM %s" % (self.app.store.blob_path(model_layer["digest"]) if model_layer else entry.name.display_shortest())]
        for layer in entry.layers():
            if layer.get("mediaType") == MEDIA_PREFIX + "adapter":
                commands.append("ADAPTER %s" % self.app.store.blob_path(layer["digest"]))
        commands.append("TEMPLATE %s" % _mf_quote(template))
        if system:
            commands.append("SYSTEM %s" % _mf_quote(system))
        for key in sorted(params):
            for value in params[key] if isinstance(params[key], list) else [params[key]]:
                commands.append("PARAMETER %s %s" % (key, _mf_quote(_go_value(value))))
        commands += ["LICENSE %s" % _mf_quote(text) for text in licenses]
        commands += ["MESSAGE %s %s" % (m.get("role", ""), _mf_quote(m.get("content", ""))) for m in messages]
        return "\n".join(lines) + "\n" + "\n".join(commands) + "\n"

    def h_delete(self):
        req = self.body("DeleteRequest")
        model = req.get("model") or req.get("name") or ""
        name = Name.parse(model)
        if not name.is_valid():
            raise ApiError(400, "name %s is invalid" % go_quote(model))
        entry = self.find(name)
        if entry is None:
            raise ApiError(404, "model '%s' not found" % model)
        self.app.store.delete_manifest(entry)
        self.app.store.remove_unused(entry.digests())
        self.send_bytes(200)

    def h_copy(self):
        req = self.body("CopyRequest")
        source, destination = req.get("source") or "", req.get("destination") or ""
        src = Name.parse(source)
        if not src.is_valid():
            raise ApiError(400, "source %s is invalid" % go_quote(source))
        dst = Name.parse(destination)
        if not dst.is_valid():
            raise ApiError(400, "destination %s is invalid" % go_quote(destination))
        entry = self.find(src)
        if entry is None:
            raise ApiError(404, "model %s not found" % go_quote(source))
        self.app.store.write_manifest(self.app.store.resolve(dst), entry.raw)
        self.send_bytes(200)

    def h_pull(self):
        req = self.body("PullRequest")
        unused_model, name = self.request_name(req)
        name = self.app.store.resolve(name)
        emit = Emitter(self, req.get("stream") is not False)
        try:
            pull(self.app.store, name, bool(req.get("insecure")), emit, self.app.noprune)
        except TransferError as exc:
            return emit.finish(str(exc))
        emit.finish()

    def h_push(self):
        req = self.body("PushRequest")
        unused_model, name = self.request_name(req, required=True)
        emit = Emitter(self, req.get("stream") is not False)
        try:
            push(self.app.store, self.app.store.resolve(name), bool(req.get("insecure")), emit)
        except TransferError as exc:
            return emit.finish(str(exc))
        emit.finish()

    def h_create(self):
        req = self.body("CreateRequest")
        for path in req.get("files") or {}:
            if path.startswith("/") or ".." in path.split("/") or path in ("", "."):
                raise ApiError(400, "file path must be relative")
        unused_model, name = self.request_name(req)
        name = self.app.store.resolve(name)
        emit = Emitter(self, req.get("stream") is not False)
        try:
            self.create(req, name, emit)
        except ApiError as exc:
            return emit.finish(exc.message, exc.status)
        except TransferError as exc:
            return emit.finish(str(exc))
        emit.finish()

    def create(self, req, name, emit):
        store = self.app.store
        base, statuses, parent = [], [], ""
        if req.get("from"):
            source = Name.parse(req["from"])
            if not source.is_valid():
                raise ApiError(400, "invalid model name")
            entry = self.find(source)
            if entry is None:
                pull(store, store.resolve(source), False, emit, self.app.noprune)
                entry = store.get(source)
            parent = entry.name.display_shortest()
            for layer in entry.layers():
                layer = dict(layer)
                if layer["mediaType"] in (MEDIA_PREFIX + "model", MEDIA_PREFIX + "projector", MEDIA_PREFIX + "adapter"):
                    layer.setdefault("from", parent)
                base.append(layer)
                statuses.append("using existing layer %s" % layer["digest"])
        elif req.get("files"):
            for digest in req["files"].values():
                try:
                    path = store.blob_path(digest)
                except InvalidDigest as exc:
                    raise ApiError(400, str(exc)) from exc
                if not os.path.exists(path):
                    raise ApiError(500, "open %s: no such file or directory" % path)
                if gguf.read_metadata(path) is None:
                    raise ApiError(400, "supplied file was not in GGUF format")
                emit({"status": "parsing GGUF"})
                base.append({"mediaType": MEDIA_PREFIX + "model", "digest": digest, "size": os.path.getsize(path)})
                statuses.append("using existing layer %s" % digest)
        else:
            raise ApiError(400, "neither 'from' or 'files' was specified")
        if req.get("quantize"):
            raise ApiError(400, "quantization is only supported for F16 and F32 models")

        emit({"status": "reading model metadata"})
        layers = base

        def replace(kind, blobs, label):
            nonlocal layers
            layers = [layer for layer in layers if layer["mediaType"] != MEDIA_PREFIX + kind]
            for data in blobs:
                emit({"status": "creating %s layer" % label})
                layer, status = store.new_layer(data, MEDIA_PREFIX + kind)
                layers.append(layer)
                if status.startswith("using"):
                    statuses.append(status)

        if req.get("template"):
            replace("template", [req["template"].encode()], "template")
        if req.get("system"):
            replace("system", [req["system"].encode()], "system")
        if req.get("license") is not None:
            lic = req["license"]
            replace("license", [t.encode() for t in (lic if isinstance(lic, list) else [lic])], "license")
        if req.get("parameters") is not None:
            merged = dict(req["parameters"])
            for old in [layer for layer in layers if layer["mediaType"] == MEDIA_PREFIX + "params"]:
                for key, value in json.loads(store.read_blob(old["digest"])).items():
                    merged.setdefault(key, value)
            if merged:
                replace("params", [(go_json(dict(sorted(merged.items()))) + "\n").encode()], "parameters")
        if req.get("messages") is not None:
            replace("messages", [(go_json(req["messages"]) + "\n").encode()], "messages")
        if req.get("adapters"):
            blobs = []
            for digest in req["adapters"].values():
                try:
                    blobs.append(store.read_blob(digest))
                except (OSError, InvalidDigest) as exc:
                    raise ApiError(400, "invalid digest format" if isinstance(exc, InvalidDigest) else str(exc)) from exc
            replace("adapter", blobs, "adapter")

        config = self.derive_config(layers)
        config["rootfs"] = {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]}
        config_layer, unused_status = store.new_layer((go_json(config) + "\n").encode(), CONFIG_MEDIA_TYPE)
        for status in statuses:
            emit({"status": status})
        try:
            old = store.get(name)
        except FileNotFoundError:
            old = None
        emit({"status": "writing manifest"})
        store.write_manifest(name, store.build_manifest(config_layer, layers))
        if old and not self.app.noprune:
            store.remove_unused(set(old.digests()) - {layer["digest"] for layer in layers} - {config_layer["digest"]})
        emit({"status": "success"})

    def derive_config(self, layers):
        kv = {}
        for layer in layers:
            if layer["mediaType"] == MEDIA_PREFIX + "model":
                kv = gguf.read_metadata(self.app.store.blob_path(layer["digest"])) or {}
                break
        arch = kv.get("general.architecture", "")
        return {"model_format": "gguf" if kv else "", "model_family": arch, "model_families": [arch] if arch else None,
                "model_type": gguf.human_number(kv.get("general.parameter_count", 0)) if kv else "",
                "file_type": gguf.FILE_TYPES.get(kv.get("general.file_type"), ""), "architecture": "amd64", "os": "linux"}

    def h_blob(self, digest):
        try:
            path = self.app.store.blob_path(digest)
        except InvalidDigest as exc:
            raise ApiError(400, str(exc)) from exc
        exists = os.path.exists(path)
        if self.command == "HEAD":
            if not exists:
                raise ApiError(404, "blob %s not found" % go_quote(digest))
            return self.send_bytes(200)
        if exists:
            self.read_body()
            return self.send_bytes(200)
        got = self.app.store.write_blob_stream(self.iter_body())
        if got != digest.replace("-", ":", 1):
            try:
                os.remove(self.app.store.blob_path(got))
            except OSError:
                pass
            raise ApiError(400, "digest mismatch, expected %s, got %s" % (go_quote(digest), go_quote(got)))
        self.send_bytes(201)

    def h_ps(self):
        models = []
        for m in self.app.scheduler.running_models():
            shown = m.entry.name.display_shortest()
            # Kept forever: Go adds the largest Duration to now, which lands in the year 2318.
            expires = rfc3339(time.time_ns() + MAX_DURATION_NS if m.expires_ns >= MAX_DURATION_NS else m.expires_ns)
            models.append({"name": shown, "model": shown, "size": m.size, "digest": m.entry.digest, "details": self.details(m.entry),
                           "expires_at": expires, "size_vram": m.size_vram, "context_length": m.context_length})
        self.json(200, {"models": models})

    # inference

    def resolve_model(self, model, empty_status):
        name = Name.parse(model)
        if not model:
            raise ApiError(empty_status, "model is required" if empty_status == 400 else "model '' not found")
        if not name.is_valid():
            raise ApiError(400, "invalid model name")
        entry = self.find(name)
        if entry is None:
            raise ApiError(404, "model '%s' not found" % model)
        return entry

    def require(self, entry, capability, verb):
        if capability not in self.capabilities(entry):
            raise ApiError(400, "%s does not support %s" % (go_quote(entry.name.display_shortest()), verb))

    def load(self, entry, keep, num_ctx=None):
        try:
            return self.app.scheduler.load(entry, keep, num_ctx)
        except RunnerFailed as exc:
            log("ERROR", "sched.go:478", "error loading llama server", error=exc.message)
            raise

    def run(self, entry, req, prompt, keep, as_json=False):
        """Load the model (before any output, so a failed load is a plain error), then a generator of its reply."""
        options = req.get("options") or {}
        params = dict(self.params(entry), **options)
        was_loaded = self.load(entry, keep, options.get("num_ctx"))
        return self.reply(entry, prompt, keep, as_json, params, was_loaded)

    def reply(self, entry, prompt, keep, as_json, params, was_loaded):
        """Yields tokens (paced when asked) and finally returns the metrics dict."""
        tokens, reason = generate_tokens(entry.name.display_shortest(), prompt, params.get("num_predict"),
                                         params.get("stop"), as_json)
        rate = self.app.tokens_per_second
        for tok in tokens:
            if self.app.pace:
                time.sleep(1.0 / rate)
            yield tok
        prompt_count = count_tokens(prompt) + 10
        load = 0 if was_loaded else 250_000_000
        prompt_eval = int(prompt_count * 1e9 / (rate * 10))
        evals = int(len(tokens) * 1e9 / rate)
        if keep == 0:
            self.app.scheduler.unload(entry)
        return {"done_reason": reason, "total_duration": load + prompt_eval + evals + 1_000_000, "load_duration": load,
                "prompt_eval_count": prompt_count, "prompt_eval_duration": prompt_eval, "eval_count": len(tokens),
                "eval_duration": evals}

    def h_generate(self):
        req = self.body("GenerateRequest")
        model = req.get("model") or ""
        if req.get("raw") and (req.get("template") or req.get("system") or req.get("context")):
            raise ApiError(400, "raw mode does not support template, system, or context")
        entry = self.resolve_model(model, 404)
        keep = self.keep_alive(req)
        prompt = req.get("prompt") or ""
        now = rfc3339(utc=True)
        if not prompt and not req.get("images") and keep == 0:
            self.app.scheduler.unload(entry)
            return self.json(200, {"model": model, "created_at": now, "response": "", "done": True, "done_reason": "unload"})
        self.require(entry, "completion", "generate")
        if req.get("think") and "thinking" not in self.capabilities(entry):
            raise ApiError(400, "%s does not support thinking" % go_quote(entry.name.display_shortest()))
        with self.app.scheduler.slot():
            if not prompt and not req.get("images"):
                self.load(entry, keep)
                return self.json(200, {"model": model, "created_at": now, "response": "", "done": True, "done_reason": "load"})
            gen = self.run(entry, req, (req.get("system") or "") + " " + prompt, keep, bool(req.get("format")))
            self.respond(req.get("stream") is not False, gen, lambda tok: {"response": tok}, model,
                         lambda text: {"response": text}, lambda text: {"context": token_ids(prompt + " " + text)})

    def h_chat(self):
        req = self.body("ChatRequest")
        model = req.get("model") or ""
        entry = self.resolve_model(model, 400)
        keep = self.keep_alive(req)
        messages = req.get("messages") or []
        now = rfc3339(utc=True)
        empty = {"model": model, "created_at": now, "message": {"role": "assistant", "content": ""}, "done": True}
        if not messages and keep == 0:
            self.app.scheduler.unload(entry)
            return self.json(200, dict(empty, done_reason="unload"))
        self.require(entry, "completion", "chat")
        if req.get("tools"):
            self.require(entry, "tools", "tools")
        if req.get("think") and "thinking" not in self.capabilities(entry):
            raise ApiError(400, "%s does not support thinking" % go_quote(entry.name.display_shortest()))
        with self.app.scheduler.slot():
            if not messages:
                self.load(entry, keep)
                return self.json(200, dict(empty, done_reason="load"))
            prompt = "\n".join("%s: %s" % (m.get("role", ""), m.get("content") or "") for m in messages if isinstance(m, dict))
            gen = self.run(entry, req, prompt, keep, bool(req.get("format")))
            self.respond(req.get("stream") is not False, gen, lambda tok: {"message": {"role": "assistant", "content": tok}},
                         model, lambda text: {"message": {"role": "assistant", "content": text}}, lambda text: {})

    def respond(self, streaming, gen, chunk, model, whole, extra_final):
        """Native NDJSON (or one object) output of a generation."""
        text = []
        if streaming:
            self.start_chunked(200, NDJSON_TYPE)

        def on_token(tok):
            text.append(tok)
            if streaming:
                msg = {"model": model, "created_at": rfc3339(utc=True)}
                msg.update(chunk(tok))
                msg["done"] = False
                self.write_chunk(go_json(msg).encode() + b"\n")

        metrics = _drain(gen, on_token)
        final = {"model": model, "created_at": rfc3339(utc=True)}
        final.update(chunk("") if streaming else whole("".join(text)))
        final["done"] = True
        final["done_reason"] = metrics.pop("done_reason")
        final.update(extra_final("".join(text)))
        final.update(metrics)
        if streaming:
            self.write_chunk(go_json(final).encode() + b"\n")
            return self.end_chunked()
        self.json(200, final)

    def embed_inputs(self, value, invalid):
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        if isinstance(value, list) and all(isinstance(v, int) for v in value):
            return [" ".join(str(v) for v in value)]
        if isinstance(value, list) and all(isinstance(v, list) for v in value):
            return [" ".join(str(x) for x in v) for v in value]
        raise ApiError(400, invalid)

    def vectors(self, entry, inputs, dimensions=None):
        kv = self.metadata(entry)
        dims = kv.get("%s.embedding_length" % kv.get("general.architecture", ""), 384)
        if dimensions and 0 < dimensions < dims:
            dims = dimensions
        return [embedding(entry.name.display_shortest(), text, dims) for text in inputs]

    def h_embed(self):
        req = self.body("EmbedRequest")
        inputs = self.embed_inputs(req.get("input"), "invalid input type")
        model = req.get("model") or ""
        entry = self.resolve_model(model, 404)
        keep = self.keep_alive(req)
        with self.app.scheduler.slot():
            was_loaded = self.load(entry, keep)
            if not inputs:
                return self.json(200, {"model": model, "embeddings": []})
            vectors = self.vectors(entry, inputs, req.get("dimensions"))
        load = 0 if was_loaded else 250_000_000
        count = sum(count_tokens(t) for t in inputs)
        self.json(200, {"model": model, "embeddings": vectors, "total_duration": load + count * 1_000_000,
                        "load_duration": load, "prompt_eval_count": count})

    def h_embeddings(self):
        req = self.body("EmbeddingRequest")
        model = req.get("model") or ""
        entry = self.resolve_model(model, 404)
        keep = self.keep_alive(req)
        with self.app.scheduler.slot():
            self.load(entry, keep)
            prompt = req.get("prompt") or ""
            self.json(200, {"embedding": self.vectors(entry, [prompt])[0] if prompt else []})

    # OpenAI compatibility

    def openai_model(self, entry):
        return {"id": entry.name.display_shortest(), "object": "model", "created": entry.modified_ns // 10 ** 9,
                "owned_by": entry.name.namespace}

    def h_v1_models(self):
        entries = sorted(self.app.store.entries(), key=lambda e: e.modified_ns, reverse=True)
        self.json(200, {"object": "list", "data": [self.openai_model(e) for e in entries] or None})

    def h_v1_model(self, model):
        entry = self.find(Name.parse(model)) if Name.parse(model).is_valid() else None
        if entry is None:
            raise ApiError(404, "model '%s' not found" % model)
        self.json(200, self.openai_model(entry))

    def openai_options(self, req):
        options = {}
        limit = req.get("max_completion_tokens") or req.get("max_tokens")
        if limit:
            options["num_predict"] = limit
        stop = req.get("stop")
        if stop:
            options["stop"] = [stop] if isinstance(stop, str) else stop
        for key in ("temperature", "top_p", "seed", "frequency_penalty", "presence_penalty"):
            if req.get(key) is not None:
                options[key] = req[key]
        return options

    def h_v1_chat(self):
        req = self.body("ChatCompletionRequest")
        messages = req.get("messages") or []
        if not messages:
            raise ApiError(400, "[] is too short - 'messages'")
        model = req.get("model") or ""
        entry = self.resolve_model(model, 400)
        self.require(entry, "completion", "chat")
        parts = []
        for m in messages:
            content = m.get("content")
            if isinstance(content, list):
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            parts.append("%s: %s" % (m.get("role", ""), content or ""))
        fmt = (req.get("response_format") or {}).get("type") in ("json_object", "json_schema")
        native = {"options": self.openai_options(req)}
        self.openai_respond(req, entry, model, "\n".join(parts), native, fmt, "chat.completion", "chatcmpl")

    def h_v1_completions(self):
        req = self.body("CompletionRequest")
        model = req.get("model") or ""
        entry = self.resolve_model(model, 400)
        self.require(entry, "completion", "generate")
        prompt = req.get("prompt")
        prompt = " ".join(prompt) if isinstance(prompt, list) else (prompt or "")
        self.openai_respond(req, entry, model, prompt, {"options": self.openai_options(req)}, False, "text_completion", "cmpl")

    def openai_respond(self, req, entry, model, prompt, native, as_json, kind, prefix):
        ident = "%s-%d" % (prefix, random.randrange(999))
        created = int(time.time())
        chat = kind == "chat.completion"
        keep = self.app.keep_alive_default

        def choice(text, finish, delta=False):
            if chat:
                body = {"index": 0, ("delta" if delta else "message"): {"role": "assistant", "content": text}}
            else:
                body = {"text": text, "index": 0}
            body["finish_reason"] = finish
            return body

        def envelope(obj_kind, choices):
            return {"id": ident, "object": obj_kind, "created": created, "model": model, "system_fingerprint": "fp_ollama",
                    "choices": choices}

        with self.app.scheduler.slot():
            gen = self.run(entry, native, prompt, keep, as_json)
            streaming = bool(req.get("stream"))
            chunk_kind = "chat.completion.chunk" if chat else "text_completion"
            text = []
            if streaming:
                self.start_chunked(200, "text/event-stream", {"Cache-Control": "no-cache", "Connection": "keep-alive"})

            def on_token(tok):
                text.append(tok)
                if streaming:
                    self.sse(envelope(chunk_kind, [choice(tok, None, True)]))

            metrics = _drain(gen, on_token)
        usage = {"prompt_tokens": metrics["prompt_eval_count"], "completion_tokens": metrics["eval_count"],
                 "total_tokens": metrics["prompt_eval_count"] + metrics["eval_count"]}
        finish = metrics["done_reason"]
        if not streaming:
            return self.json(200, dict(envelope(kind, [choice("".join(text), finish)]), usage=usage))
        self.sse(envelope(chunk_kind, [choice("", finish, True)]))
        if (req.get("stream_options") or {}).get("include_usage"):
            self.sse(dict(envelope(chunk_kind, []), usage=usage))
        self.write_chunk(b"data: [DONE]\n\n")
        self.end_chunked()

    def sse(self, obj):
        self.write_chunk(b"data: " + go_json(obj).encode() + b"\n\n")

    def h_v1_embeddings(self):
        req = self.body("EmbedRequest")
        inputs = self.embed_inputs(req.get("input"), "invalid input")
        if not inputs:
            raise ApiError(400, "invalid input")
        model = req.get("model") or ""
        entry = self.resolve_model(model, 404)
        with self.app.scheduler.slot():
            self.load(entry, self.app.keep_alive_default)
            vectors = self.vectors(entry, inputs, req.get("dimensions"))
        b64 = req.get("encoding_format") == "base64"
        data = [{"object": "embedding", "embedding": float32_base64(v) if b64 else v, "index": i} for i, v in enumerate(vectors)]
        count = sum(count_tokens(t) for t in inputs)
        self.json(200, {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": count, "total_tokens": count}})


def _go_value(v):
    """fmt's %v for JSON-decoded values (float64 prints without a trailing .0)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _mf_quote(s):
    """parser.quote: only multi-line or space-padded values get quoted."""
    if "\n" in s or s.startswith(" ") or s.endswith(" "):
        if '"' in s:
            return '"""' + s + '"""'
        return go_quote(s)
    return s


def _go_elapsed(seconds):
    if seconds < 1e-3:
        return "%.3gµs" % (seconds * 1e6)
    if seconds < 1:
        return "%.6gms" % (seconds * 1e3)
    return "%.6gs" % seconds


def _decode_error(raw, exc):
    """Approximate encoding/json's syntax error texts."""
    text = raw.decode("utf-8", "replace")
    pos = getattr(exc, "pos", 0)
    if pos >= len(text.rstrip()):
        return "unexpected EOF"
    ch = text[pos]
    if pos == 0 or "Expecting value" in str(exc):
        return "invalid character %s looking for beginning of value" % _go_char(ch)
    if "property name" in str(exc):
        return "invalid character %s looking for beginning of object key string" % _go_char(ch)
    if "delimiter" in str(exc) and "':'" in str(exc):
        return "invalid character %s after object key" % _go_char(ch)
    return "invalid character %s after object key:value pair" % _go_char(ch)


def _go_char(ch):
    return "'%s'" % ch if ch != "'" else "'\\''"


def _routes():
    h = ApiHandler
    table = [
        ("/", {"GET": h.h_root, "HEAD": h.h_root}),
        ("/api/version", {"GET": h.h_version, "HEAD": h.h_version}),
        ("/api/tags", {"GET": h.h_tags, "HEAD": h.h_tags}),
        ("/api/show", {"POST": h.h_show}),
        ("/api/pull", {"POST": h.h_pull}),
        ("/api/push", {"POST": h.h_push}),
        ("/api/create", {"POST": h.h_create}),
        ("/api/copy", {"POST": h.h_copy}),
        ("/api/delete", {"DELETE": h.h_delete}),
        ("/api/ps", {"GET": h.h_ps}),
        ("/api/generate", {"POST": h.h_generate}),
        ("/api/chat", {"POST": h.h_chat}),
        ("/api/embed", {"POST": h.h_embed}),
        ("/api/embeddings", {"POST": h.h_embeddings}),
        ("/api/blobs/([^/]+)", {"POST": h.h_blob, "HEAD": h.h_blob}),
        ("/v1/chat/completions", {"POST": h.h_v1_chat}),
        ("/v1/completions", {"POST": h.h_v1_completions}),
        ("/v1/embeddings", {"POST": h.h_v1_embeddings}),
        ("/v1/models", {"GET": h.h_v1_models}),
        ("/v1/models/([^/]+)", {"GET": h.h_v1_model}),
    ]
    return [(re.compile("^%s$" % path), methods) for path, methods in table]


ROUTES = _routes()


def make_server(models_dir, host="127.0.0.1", port=11434):
    server = Server((host, port), ApiHandler)
    server.app = App(models_dir)
    try:
        server.app.loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        server.app.loopback = host == "localhost"
    return server


def serve():
    """`ollama serve`: prune the store, bind OLLAMA_HOST, log like upstream, serve until killed."""
    if BROKEN or envconfig.boolean("OLLAMA_DOUBLE_FAIL_START"):
        log("ERROR", "server.go:112", "unable to initialize inference backend", error="libggml-base.so: cannot open shared object file")
        sys.stderr.write("Error: unable to initialize inference backend: libggml-base.so: cannot open shared object file: "
                         "No such file or directory\n")
        return 1
    unused_scheme, host, port = envconfig.host()
    models = envconfig.models_dir()
    store = Store(models)
    try:
        store.ensure()
    except OSError as exc:
        sys.stderr.write("Error: mkdir %s: %s\n" % (models, exc.strerror.lower()))
        return 1
    if not envconfig.boolean("OLLAMA_NOPRUNE"):
        store.prune()
    keys = ("OLLAMA_HOST", "OLLAMA_KEEP_ALIVE", "OLLAMA_MAX_QUEUE", "OLLAMA_MODELS", "OLLAMA_NOPRUNE", "OLLAMA_NUM_PARALLEL",
            "OLLAMA_ORIGINS", "OLLAMA_CONTEXT_LENGTH", "OLLAMA_DOUBLE_PROCESSOR", "OLLAMA_DOUBLE_REGISTRY")
    log("INFO", "routes.go:1615", "server config", env="map[%s]" % " ".join("%s:%s" % (k, envconfig.var(k)) for k in keys))
    delay = envconfig.start_delay()
    if delay:
        # Running but not listening yet, as a server still initialising its GPUs.
        log("INFO", "server.go:1", "delaying start (OLLAMA_DOUBLE_START_DELAY)", seconds=delay)
        time.sleep(delay)
    try:
        server = make_server(models, host, port)
    except OSError as exc:
        sys.stderr.write("Error: listen tcp %s:%d: bind: %s\n" % (host, port, (exc.strerror or str(exc)).lower()))
        return 1
    bound_host, bound_port = server.server_address[:2]
    shown = "[%s]:%d" % (bound_host, bound_port) if ":" in bound_host else "%s:%d" % (bound_host, bound_port)
    log("INFO", "images.go:522", "total blobs: %d" % len(os.listdir(store.blobs)))
    log("INFO", "routes.go:1668", "Listening on %s (version %s)" % (shown, VERSION))
    gpu = server.app.scheduler.gpu_percent
    log("INFO", "types.go:131", "inference compute", id="GPU-0" if gpu else "cpu", library="cuda" if gpu else "cpu",
        total="24.0 GiB", available="23.1 GiB")
    server.serve_until_stopped()
    return 0
