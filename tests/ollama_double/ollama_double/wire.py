"""Encodings that must match what Go's standard library produces on the wire."""
import datetime
import json
import re
import time

# time.ParseDuration units, in nanoseconds.
_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 10 ** 6, "s": 10 ** 9, "m": 60 * 10 ** 9, "h": 3600 * 10 ** 9}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
MAX_DURATION_NS = 2 ** 63 - 1


def go_json(obj):
    """json.Marshal: compact, UTF-8, with HTML-sensitive characters escaped."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def go_quote(s):
    """fmt's %q for the plain strings that appear in error messages."""
    return json.dumps(s, ensure_ascii=False)


def rfc3339(ts_ns=None, utc=False):
    """time.Time's JSON form (RFC 3339 with nanoseconds, trailing zeros trimmed, local offset)."""
    if ts_ns is None:
        ts_ns = time.time_ns()
    secs, nanos = divmod(ts_ns, 10 ** 9)
    dt = datetime.datetime.fromtimestamp(secs, datetime.timezone.utc)
    if not utc:
        dt = dt.astimezone()
    frac = ("." + ("%09d" % nanos).rstrip("0")) if nanos else ""
    offset = dt.utcoffset()
    if not offset:
        zone = "Z"
    else:
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        zone = "%s%02d:%02d" % (sign, abs(minutes) // 60, abs(minutes) % 60)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + frac + zone


def parse_go_duration(text):
    """time.ParseDuration; returns nanoseconds or raises ValueError with Go's message."""
    orig = text
    if text in ("0", "+0", "-0"):
        return 0
    sign = 1
    if text[:1] in "+-" and text:
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if not text:
        raise ValueError('time: invalid duration "%s"' % orig)
    total = 0.0
    pos = 0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if not m or m.group(1) in ("", "."):
            if re.match(r"[0-9.]+$", text[pos:]):
                raise ValueError('time: missing unit in duration "%s"' % orig)
            raise ValueError('time: invalid duration "%s"' % orig)
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * int(total)


def keep_alive_ns(value, default_ns):
    """api.Duration's JSON decoding: seconds as a number or a Go duration string; negative means forever."""
    if value is None:
        return default_ns
    if isinstance(value, bool):
        raise ValueError("Unsupported type: 'bool'")
    if isinstance(value, (int, float)):
        ns = int(value * 10 ** 9)
    elif isinstance(value, str):
        ns = parse_go_duration(value)
    else:
        raise ValueError("Unsupported type: '%s'" % type(value).__name__)
    return MAX_DURATION_NS if ns < 0 else ns
