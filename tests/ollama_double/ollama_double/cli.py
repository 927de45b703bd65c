"""The `ollama` command line: `serve` plus the client commands, with upstream's output formats."""
import datetime
import http.client
import json
import math
import os
import re
import sys
import time
import urllib.parse

from . import VERSION, envconfig, modelfile

USAGE = """Large language model runner

Usage:
  ollama [flags]
  ollama [command]

Available Commands:
  serve       Start ollama
  create      Create a model
  show        Show information for a model
  run         Run a model
  stop        Stop a running model
  pull        Pull a model from a registry
  push        Push a model to a registry
  list        List models
  ps          List running models
  cp          Copy a model
  rm          Remove a model
  help        Help about any command

Flags:
  -h, --help      help for ollama
  -v, --version   Show version information

Use "ollama [command] --help" for more information about a command.
"""


class CliError(Exception):
    pass


# formatting (format/bytes.go, format/time.go)

def human_bytes(b):
    for unit, size in (("TB", 10 ** 12), ("GB", 10 ** 9), ("MB", 10 ** 6), ("KB", 10 ** 3)):
        if b >= size:
            value = b / size
            if value >= 10 or value == math.trunc(value):
                return "%d %s" % (int(value), unit)
            return "%.1f %s" % (value, unit)
    return "%d B" % b


def human_duration(seconds):
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return "%d seconds" % s
    minutes = int(seconds // 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return "%d minutes" % minutes
    hours = int(round(seconds / 3600))
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return "%d hours" % hours
    if hours < 24 * 7 * 2:
        return "%d days" % (hours // 24)
    if hours < 24 * 30 * 2:
        return "%d weeks" % (hours // 24 // 7)
    if hours < 24 * 365 * 2:
        return "%d months" % (hours // 24 // 30)
    return "%d years" % (int(seconds // 3600) // 24 // 365)


def human_time(stamp, zero="Never"):
    if not stamp:
        return zero
    delta = time.time() - parse_time(stamp)
    if delta / 86400 / 365 < -20:
        return "Forever"
    if delta < 0:
        return human_duration(-delta) + " from now"
    return human_duration(delta) + " ago"


def parse_time(stamp):
    """Seconds since the epoch from an RFC 3339 timestamp, with up to nanosecond precision or none at all
    (a file whose mtime has whole seconds, as in an image made by `docker commit`, gives "...:33Z")."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$", stamp)
    if not match:
        raise ValueError("not an RFC 3339 time: %r" % (stamp,))
    main, frac, zone = match.group(1), match.group(2) or "0", match.group(3) or "Z"
    zone = "+0000" if zone == "Z" else zone.replace(":", "")
    dt = datetime.datetime.strptime(main + zone, "%Y-%m-%dT%H:%M:%S%z")
    return dt.timestamp() + float("0." + frac)


def table(header, rows):
    """tablewriter as the CLI configures it: left aligned, no borders, 4-space padding."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    return "".join("".join(str(c).ljust(w) + "    " for c, w in zip(r, widths)) + "\n" for r in [header] + rows)


# client

class Client:
    def __init__(self):
        self.base = urllib.parse.urlsplit(envconfig.base_url())

    def _conn(self):
        cls = http.client.HTTPSConnection if self.base.scheme == "https" else http.client.HTTPConnection
        return cls(self.base.hostname, self.base.port, timeout=600)

    def request(self, method, path, body=None, headers=None):
        conn = self._conn()
        hdrs = {"Accept": "application/json", "User-Agent": "ollama/%s (amd64 linux) Go/go1.24.0" % VERSION}
        if body is not None and not isinstance(body, (bytes, bytearray)) and not hasattr(body, "read"):
            body = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
        except OSError as exc:
            raise CliError("could not connect to ollama server, run 'ollama serve' to start it") from exc
        return resp

    def call(self, method, path, body=None):
        resp = self.request(method, path, body)
        raw = resp.read()
        if resp.status >= 400:
            raise CliError(_error_text(raw, resp))
        return json.loads(raw) if raw else None

    def stream(self, path, body):
        resp = self.request("POST", path, body)
        if resp.status >= 400:
            raise CliError(_error_text(resp.read(), resp))
        for line in resp:
            if line.strip():
                msg = json.loads(line)
                if "error" in msg:
                    raise CliError(msg["error"])
                yield msg


def _error_text(raw, resp):
    try:
        return json.loads(raw)["error"]
    except (ValueError, KeyError, TypeError):
        return raw.decode("utf-8", "replace").strip() or "%d %s" % (resp.status, resp.reason)


# commands

def cmd_version(_args):
    try:
        server = Client().call("GET", "/api/version")["version"]
    except (CliError, ValueError, KeyError, TypeError):
        server = ""
        print("Warning: could not connect to a running Ollama instance")
    if server:
        print("ollama version is %s" % server)
    if server != VERSION:
        print("Warning: client version is %s" % VERSION)
    return 0


def cmd_list(_args):
    models = Client().call("GET", "/api/tags")["models"]
    rows = [[m["name"], m["digest"][:12], human_bytes(m["size"]), human_time(m["modified_at"])] for m in models]
    sys.stdout.write(table(["NAME", "ID", "SIZE", "MODIFIED"], rows))
    return 0


def cmd_ps(_args):
    models = Client().call("GET", "/api/ps")["models"]
    rows = []
    for m in models:
        size, vram = m["size"], m.get("size_vram", 0)
        if vram == 0:
            proc = "100% CPU"
        elif vram == size:
            proc = "100% GPU"
        elif vram > size or size == 0:
            proc = "Unknown"
        else:
            cpu = round((size - vram) / size * 100)
            proc = "%d%%/%d%% CPU/GPU" % (cpu, 100 - cpu)
        until = "Stopping..." if parse_time(m["expires_at"]) < time.time() else human_time(m["expires_at"])
        rows.append([m["name"], m["digest"][:12], human_bytes(size), proc, str(m.get("context_length", "")), until])
    sys.stdout.write(table(["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"], rows))
    return 0


def _progress(messages):
    """Progress lines on stderr: each status once, each layer once it completes."""
    shown = set()
    for msg in messages:
        status = msg.get("status", "")
        if msg.get("digest"):
            total, done = msg.get("total", 0), msg.get("completed", 0)
            if total and done >= total and status not in shown:
                shown.add(status)
                sys.stderr.write("%s: 100%% ▕%s▏ %s\n" % (status, "█" * 18, human_bytes(total)))
        elif status and status not in shown:
            shown.add(status)
            sys.stderr.write(status + "\n")
        sys.stderr.flush()


def cmd_pull(args):
    insecure = "--insecure" in args
    names = [a for a in args if not a.startswith("-")]
    if len(names) != 1:
        raise CliError('accepts 1 arg(s), received %d' % len(names))
    _progress(Client().stream("/api/pull", {"model": names[0], "insecure": insecure}))
    return 0


def cmd_push(args):
    insecure = "--insecure" in args
    names = [a for a in args if not a.startswith("-")]
    if len(names) != 1:
        raise CliError('accepts 1 arg(s), received %d' % len(names))
    _progress(Client().stream("/api/push", {"model": names[0], "insecure": insecure}))
    return 0


def cmd_rm(args):
    if not args:
        raise CliError("requires at least 1 arg(s), only received 0")
    client = Client()
    for name in args:
        client.call("DELETE", "/api/delete", {"model": name})
        print("deleted '%s'" % name)
    return 0


def cmd_cp(args):
    if len(args) != 2:
        raise CliError("accepts 2 arg(s), received %d" % len(args))
    Client().call("POST", "/api/copy", {"source": args[0], "destination": args[1]})
    print("copied '%s' to '%s'" % (args[0], args[1]))
    return 0


def cmd_show(args):
    flags = {a for a in args if a.startswith("-")}
    names = [a for a in args if not a.startswith("-")]
    if len(names) != 1:
        raise CliError("accepts 1 arg(s), received %d" % len(names))
    info = Client().call("POST", "/api/show", {"model": names[0], "verbose": "--verbose" in flags or "-v" in flags})
    for flag in ("license", "modelfile", "parameters", "system", "template"):
        if "--" + flag in flags:
            print(info.get(flag, ""))
            return 0
    sys.stdout.write(show_text(info))
    return 0


def show_text(info):
    kv = info.get("model_info") or {}
    arch = kv.get("general.architecture", "")
    details = info.get("details") or {}
    out = []

    def section(title, rows):
        out.append("  %s\n" % title)
        out.extend("    " + line for line in table(rows[0], rows[1:]).splitlines(True)) if rows else None
        out.append("\n")

    model = [["architecture", arch], ["parameters", details.get("parameter_size", "")]]
    for label, key in (("context length", "context_length"), ("embedding length", "embedding_length")):
        if "%s.%s" % (arch, key) in kv:
            model.append([label, str(kv["%s.%s" % (arch, key)])])
    model.append(["quantization", details.get("quantization_level", "")])
    section("Model", model)
    if info.get("capabilities"):
        section("Capabilities", [[c] for c in info["capabilities"]])
    if info.get("parameters"):
        section("Parameters", [line.split(None, 1) for line in info["parameters"].splitlines()])
    if info.get("system"):
        section("System", [[line] for line in info["system"].splitlines()[:2]])
    if info.get("license"):
        section("License", [[line] for line in info["license"].splitlines()[:2]])
    return "".join(out)


def cmd_create(args):
    path, quantize, names = "Modelfile", None, []
    it = iter(args)
    for arg in it:
        if arg in ("-f", "--file"):
            path = next(it, "Modelfile")
        elif arg in ("-q", "--quantize"):
            quantize = next(it, None)
        else:
            names.append(arg)
    if len(names) != 1:
        raise CliError("accepts 1 arg(s), received %d" % len(names))
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise CliError("open %s: %s" % (path, (exc.strerror or "").lower())) from exc
    sys.stderr.write("gathering model components\n")
    try:
        req, uploads = modelfile.create_request(modelfile.parse(text), os.path.dirname(os.path.abspath(path)))
    except modelfile.ParseError as exc:
        raise CliError(str(exc)) from exc
    client = Client()
    for digest, file_path in uploads.items():
        resp = client.request("HEAD", "/api/blobs/" + digest)
        resp.read()
        if resp.status == 200:
            continue
        sys.stderr.write("copying file %s 100%%\n" % digest)
        with open(file_path, "rb") as f:
            resp = client.request("POST", "/api/blobs/" + digest, f.read(), {"Content-Type": "application/octet-stream"})
        raw = resp.read()
        if resp.status >= 400:
            raise CliError(_error_text(raw, resp))
    req["model"] = names[0]
    if quantize:
        req["quantize"] = quantize
    _progress(client.stream("/api/create", req))
    return 0


def cmd_run(args):
    names = [a for a in args if not a.startswith("-")]
    if not names:
        raise CliError("requires at least 1 arg(s), only received 0")
    prompt = " ".join(names[1:]) or (sys.stdin.read() if not sys.stdin.isatty() else "")
    client = Client()
    for msg in client.stream("/api/generate", {"model": names[0], "prompt": prompt}):
        sys.stdout.write(msg.get("response", ""))
        sys.stdout.flush()
    sys.stdout.write("\n\n" if prompt else "")
    return 0


def cmd_stop(args):
    if len(args) != 1:
        raise CliError("accepts 1 arg(s), received %d" % len(args))
    Client().call("POST", "/api/generate", {"model": args[0], "keep_alive": 0})
    return 0


def cmd_serve(_args):
    from .server import serve
    return serve()


def cmd_registry(args):
    from .registry import main as registry_main
    return registry_main(args)


COMMANDS = {"serve": cmd_serve, "start": cmd_serve, "list": cmd_list, "ls": cmd_list, "ps": cmd_ps, "pull": cmd_pull,
            "push": cmd_push, "rm": cmd_rm, "cp": cmd_cp, "show": cmd_show, "create": cmd_create, "run": cmd_run,
            "stop": cmd_stop, "registry": cmd_registry}


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    if argv[0] in ("-v", "--version"):
        return cmd_version(argv[1:])
    command = COMMANDS.get(argv[0])
    if command is None:
        sys.stderr.write('Error: unknown command "%s" for "ollama"\n' % argv[0])
        return 1
    try:
        return command(argv[1:])
    except CliError as exc:
        sys.stderr.write("Error: %s\n" % exc)
        return 1
    except KeyboardInterrupt:
        return 130
