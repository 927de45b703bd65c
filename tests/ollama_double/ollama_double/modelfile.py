"""Client-side Modelfile parsing into an /api/create request, as parser/parser.go does."""
import hashlib
import os

COMMANDS = ("from", "license", "template", "system", "adapter", "renderer", "parser", "parameter", "message")
ROLES = ("system", "user", "assistant")
_INT = {"num_keep", "seed", "num_predict", "top_k", "repeat_last_n", "mirostat", "num_ctx", "num_batch", "num_gpu",
        "main_gpu", "num_thread"}
_FLOAT = {"top_p", "min_p", "typical_p", "temperature", "repeat_penalty", "presence_penalty", "frequency_penalty",
          "mirostat_tau", "mirostat_eta", "tfs_z"}
_BOOL = {"penalize_newline", "numa", "low_vram", "use_mmap", "use_mlock", "vocab_only", "f16_kv", "logits_all"}
_LIST = {"stop"}


class ParseError(ValueError):
    pass


def parse(text):
    """Commands as (name, args): FROM becomes "model", PARAMETER its parameter name, MESSAGE "message"."""
    commands = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if i >= n:
            break
        if text[i] == "#":
            i = _eol(text, i)
            continue
        start = i
        while i < n and text[i] not in " \t\r\n":
            i += 1
        word = text[start:i].lower()
        if word not in COMMANDS:
            raise ParseError('command must be one of "from", "license", "template", "system", "adapter", "renderer", '
                             '"parser", "parameter", or "message"')
        i = _spaces(text, i)
        name = "model" if word == "from" else word
        if word in ("parameter", "message"):
            start = i
            while i < n and text[i] not in " \t\r\n":
                i += 1
            sub = text[start:i]
            i = _spaces(text, i)
            if word == "parameter":
                name = sub.lower()
            elif sub.lower() not in ROLES:
                raise ParseError('message role must be one of "system", "user", or "assistant"')
        value, i = _value(text, i)
        if word == "message":
            value = "%s: %s" % (sub.lower(), value)
        commands.append((name, value))
    if not any(name == "model" for name, unused_value in commands):
        raise ParseError("no FROM line")
    return commands


def _eol(text, i):
    end = text.find("\n", i)
    return len(text) if end < 0 else end + 1


def _spaces(text, i):
    while i < len(text) and text[i] in " \t":
        i += 1
    return i


def _value(text, i):
    if text.startswith('"""', i):
        end = text.find('"""', i + 3)
        if end < 0:
            raise ParseError("unexpected EOF")
        return text[i + 3:end], _eol(text, end + 3)
    if text.startswith('"', i):
        out, j = [], i + 1
        while j < len(text) and text[j] != '"':
            if text[j] == "\\" and j + 1 < len(text) and text[j + 1] in '"\\':
                j += 1
            out.append(text[j])
            j += 1
        if j >= len(text):
            raise ParseError("unexpected EOF")
        return "".join(out), _eol(text, j + 1)
    end = _eol(text, i)
    return text[i:end].rstrip("\r\n").strip(), end


def format_param(key, value):
    """api.FormatParams for one value."""
    try:
        if key in _INT:
            return int(value)
        if key in _FLOAT:
            return float(value)
    except ValueError as exc:
        raise ParseError("invalid %s value [%s]" % ("int" if key in _INT else "float", value)) from exc
    if key in _BOOL:
        if value.lower() not in ("1", "t", "true", "0", "f", "false"):
            raise ParseError("invalid bool value [%s]" % value)
        return value.lower() in ("1", "t", "true")
    if key in _LIST:
        return [value]
    raise ParseError("unknown parameter '%s'" % key)


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def create_request(commands, relative_dir):
    """The /api/create body plus {digest: local path} of the files the client must upload first."""
    req, uploads, params, messages, licenses = {}, {}, {}, [], []
    for name, args in commands:
        if name in ("model", "adapter"):
            path = os.path.join(relative_dir, os.path.expanduser(args))
            if not os.path.isfile(path):
                if name == "model":
                    req["from"] = args
                    continue
                raise ParseError("stat %s: no such file or directory" % path)
            digest = file_digest(path)
            uploads[digest] = path
            req.setdefault("files" if name == "model" else "adapters", {})[os.path.basename(path)] = digest
        elif name in ("template", "system", "renderer", "parser"):
            req[name] = args
        elif name == "license":
            licenses.append(args)
        elif name == "message":
            role, unused_sep, content = args.partition(": ")
            messages.append({"role": role, "content": content})
        else:
            value = format_param(name, args)
            if isinstance(value, list) and isinstance(params.get(name), list):
                params[name] += value
            else:
                params[name] = value
    if params:
        req["parameters"] = params
    if messages:
        req["messages"] = messages
    if licenses:
        req["license"] = licenses
    return req, uploads
