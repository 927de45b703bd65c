"""Environment variables, read the way envconfig/config.go reads them."""
import ipaddress
import os

from .store import default_models_dir
from .wire import MAX_DURATION_NS, parse_go_duration


def var(key):
    """Values may be wrapped in quotes, which are stripped (fact sheet §5)."""
    return os.environ.get(key, "").strip().strip("\"'")


def host():
    """(scheme, host, port) from OLLAMA_HOST; `http://h` defaults to port 80, `https://h` to 443."""
    text = var("OLLAMA_HOST")
    default_port = 11434
    scheme, sep, hostport = text.partition("://")
    if not sep:
        scheme, hostport = "http", text
    elif scheme == "http":
        default_port = 80
    elif scheme == "https":
        default_port = 443
    hostport = hostport.split("/", 1)[0]
    h, port = None, None
    if hostport.startswith("[") and "]:" in hostport:
        h, port = hostport[1:].split("]:", 1)
    elif hostport.count(":") == 1:
        h, port = hostport.split(":")
    if h is None:
        h, port = "127.0.0.1", default_port
        bare = hostport.strip("[]")
        if bare:
            try:
                h = str(ipaddress.ip_address(bare))
            except ValueError:
                h = bare
    try:
        port = int(port)
        if not 0 <= port <= 65535:
            raise ValueError(port)
    except ValueError:
        port = default_port
    return scheme, h, port


def base_url():
    scheme, h, port = host()
    if h in ("0.0.0.0", ""):
        h = "127.0.0.1"
    elif h == "::":
        h = "::1"
    return "%s://%s:%d" % (scheme, "[%s]" % h if ":" in h else h, port)


def models_dir():
    return var("OLLAMA_MODELS") or default_models_dir()


def keep_alive_ns():
    text = var("OLLAMA_KEEP_ALIVE")
    default = 5 * 60 * 10 ** 9
    if not text:
        return default
    try:
        ns = parse_go_duration(text)
    except ValueError:
        try:
            ns = int(text) * 10 ** 9
        except ValueError:
            return default
    return MAX_DURATION_NS if ns < 0 else ns


def uint(key, default):
    try:
        value = int(var(key))
    except ValueError:
        return default
    return value if value > 0 else default


def boolean(key):
    """strconv.ParseBool; anything unparseable counts as true, unset as false."""
    text = var(key)
    if not text:
        return False
    return text.lower() not in ("0", "f", "false")


def allowed_origins():
    origins = [o.strip() for o in var("OLLAMA_ORIGINS").split(",") if o.strip()]
    for h in ("localhost", "127.0.0.1", "0.0.0.0"):
        origins += ["http://%s" % h, "https://%s" % h, "http://%s:*" % h, "https://%s:*" % h]
    return origins + ["app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"]


def context_length():
    return uint("OLLAMA_CONTEXT_LENGTH", 4096)


def processor():
    """OLLAMA_DOUBLE_PROCESSOR: `gpu` (all in VRAM), `cpu` (nothing in VRAM) or a GPU percentage."""
    text = var("OLLAMA_DOUBLE_PROCESSOR").lower() or "cpu"
    if text == "gpu":
        return 100
    if text == "cpu":
        return 0
    try:
        return min(max(int(text.rstrip("%")), 0), 100)
    except ValueError:
        return 0


def start_delay():
    """OLLAMA_DOUBLE_START_DELAY: seconds `serve` runs before it listens (a slow start such as a cold GPU)."""
    try:
        return max(float(var("OLLAMA_DOUBLE_START_DELAY")), 0.0)
    except ValueError:
        return 0.0


def fail_load():
    """OLLAMA_DOUBLE_FAIL_LOAD: why every model load fails (its runner dies), or empty."""
    return var("OLLAMA_DOUBLE_FAIL_LOAD")


def tokens_per_second():
    """OLLAMA_DOUBLE_TOKENS_PER_SECOND: (rate, whether to really pace output at it)."""
    try:
        rate = float(var("OLLAMA_DOUBLE_TOKENS_PER_SECOND"))
    except ValueError:
        return 50.0, False
    return (rate, True) if rate > 0 else (50.0, False)
