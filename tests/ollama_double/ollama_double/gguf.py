"""Just enough of the GGUF v3 container to write tiny model files and read their metadata back."""
import struct

MAGIC = b"GGUF"
_UINT32, _FLOAT32, _BOOL, _STRING, _ARRAY, _UINT64 = 4, 6, 7, 8, 9, 10
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}

# general.file_type numbers (llama.cpp's LLAMA_FTYPE_*), as `ollama show` names them.
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 7: "Q8_0", 15: "Q4_K_M", 14: "Q4_K_S", 17: "Q5_K_M"}


def _string(s):
    raw = s.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw


def _value(v):
    if isinstance(v, bool):
        return struct.pack("<I?", _BOOL, v)
    if isinstance(v, int):
        if v < 2 ** 32:
            return struct.pack("<II", _UINT32, v)
        return struct.pack("<IQ", _UINT64, v)
    if isinstance(v, float):
        return struct.pack("<If", _FLOAT32, v)
    if isinstance(v, str):
        return struct.pack("<I", _STRING) + _string(v)
    if isinstance(v, list):
        items = b"".join(_string(x) for x in v)
        return struct.pack("<IIQ", _ARRAY, _STRING, len(v)) + items
    raise TypeError("unsupported GGUF value %r" % (v,))


def encode(kv, payload=b""):
    """A GGUF file with the given metadata, no tensors, and `payload` standing in for weights."""
    head = MAGIC + struct.pack("<IQQ", 3, 0, len(kv))
    body = b"".join(_string(k) + _value(v) for k, v in kv.items())
    return head + body + payload


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, fmt):
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values[0]

    def string(self):
        n = self.take("<Q")
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        return raw.decode("utf-8", "replace")

    def value(self, typ):
        if typ == _STRING:
            return self.string()
        if typ == _ARRAY:
            inner, count = self.take("<I"), self.take("<Q")
            return [self.value(inner) for unused_index in range(count)]
        return self.take(_SCALARS[typ])


def decode(data):
    """Metadata of a GGUF file (None when `data` is not GGUF)."""
    if data[:4] != MAGIC:
        return None
    r = _Reader(data)
    r.pos = 8
    r.take("<Q")
    count = r.take("<Q")
    kv = {}
    try:
        for unused_index in range(count):
            key = r.string()
            kv[key] = r.value(r.take("<I"))
    except (struct.error, KeyError):
        pass
    return kv


def read_metadata(path, limit=1 << 20):
    with open(path, "rb") as f:
        return decode(f.read(limit))


def human_number(n):
    """format.HumanNumber, used for parameter sizes such as `134.52M` or `3.2B`."""
    for unit, div, fmt in (("B", 10 ** 9, "%.1f"), ("M", 10 ** 6, "%.2f"), ("K", 10 ** 3, "%.2f")):
        if n >= div:
            return (fmt % (n / div)) + unit
    return str(n)
