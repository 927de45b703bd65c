"""Deterministic stand-ins for inference: the runner scheduler, generated text and embeddings."""
import base64
import contextlib
import hashlib
import math
import struct
import threading
import time

from .wire import MAX_DURATION_NS

VOCAB = ("the a model answer double ollama runs tests offline quickly every prompt gets this same reply "
         "with words chosen from a tiny list so tokens stay stable across runs").split()
DEFAULT_TOKENS = 12
BUSY = "server busy, please try again.  maximum pending requests exceeded"


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _stream(seed):
    counter = 0
    while True:
        yield from hashlib.sha256(("%s#%d" % (seed, counter)).encode()).digest()
        counter += 1


def generate_tokens(model, prompt, limit=None, stop=None, as_json=False):
    """The reply tokens for a prompt and why generation ended ("stop" or "length")."""
    source = _stream(model + "\0" + prompt)
    words = [VOCAB[next(source) % len(VOCAB)] for unused_index in range(DEFAULT_TOKENS)]
    words[0] = words[0].capitalize()
    text = " ".join(words) + "."
    if as_json:
        text = '{"answer": "%s"}' % text
    tokens = [w if i == 0 else " " + w for i, w in enumerate(text.split(" "))]
    reason = "stop"
    if limit is not None and 0 <= limit < len(tokens):
        tokens, reason = tokens[:limit], "length"
    for s in stop or []:
        joined = "".join(tokens)
        if s and s in joined:
            tokens, reason = [joined[:joined.index(s)]], "stop"
    return [t for t in tokens if t], reason


def count_tokens(text):
    return max(1, len(text.split())) if text else 0


def token_ids(text):
    return [int.from_bytes(hashlib.sha256(w.encode()).digest()[:2], "big") for w in text.split()]


def embedding(model, text, dims):
    """A unit vector that depends only on (model, text), with float32-like precision."""
    source = _stream("embed\0" + model + "\0" + text)
    raw = [(next(source) * 256 + next(source)) / 32767.5 - 1.0 for unused_index in range(dims)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [float("%.7g" % (v / norm)) for v in raw]


def float32_base64(vector):
    return base64.b64encode(struct.pack("<%df" % len(vector), *vector)).decode()


class Loaded:
    def __init__(self, entry, size, size_vram, context_length, expires_ns):
        self.entry = entry
        self.size = size
        self.size_vram = size_vram
        self.context_length = context_length
        self.expires_ns = expires_ns


class RunnerFailed(ApiError):
    """A model's runner died while loading: 500, and the reason in the server's log."""

    def __init__(self, reason):
        super().__init__(500, "llama runner process has terminated: %s" % reason)
        self.reason = reason


class Scheduler:
    """Tracks loaded models for /api/ps and limits concurrency like OLLAMA_NUM_PARALLEL/OLLAMA_MAX_QUEUE."""

    def __init__(self, num_parallel, max_queue, gpu_percent, default_ctx, fail_load=""):
        self.num_parallel = num_parallel
        self.fail_load = fail_load
        self.max_queue = max_queue
        self.gpu_percent = gpu_percent
        self.default_ctx = default_ctx
        self.cv = threading.Condition()
        self.running = 0
        self.waiting = 0
        self.loaded = {}

    @contextlib.contextmanager
    def slot(self):
        with self.cv:
            if self.running >= self.num_parallel:
                if self.waiting >= self.max_queue:
                    raise ApiError(503, BUSY)
                self.waiting += 1
                while self.running >= self.num_parallel:
                    self.cv.wait()
                self.waiting -= 1
            self.running += 1
        try:
            yield
        finally:
            with self.cv:
                self.running -= 1
                self.cv.notify()

    def load(self, entry, keep_alive_ns, num_ctx=None):
        """Mark a model loaded until now + keep_alive; returns whether it was already loaded."""
        if self.fail_load:
            # The server stays up; only the request fails, as when upstream's runner process dies.
            raise RunnerFailed(self.fail_load)
        key = str(entry.name)
        ctx = num_ctx or self.default_ctx
        # Runtime size: weights plus a KV cache that grows with the context, as the real server reports.
        size = entry.size + ctx * 4096
        expires = MAX_DURATION_NS if keep_alive_ns >= MAX_DURATION_NS else time.time_ns() + keep_alive_ns
        with self.cv:
            self._expire()
            was = key in self.loaded
            self.loaded[key] = Loaded(entry, size, size * self.gpu_percent // 100, ctx, expires)
        return was

    def unload(self, entry):
        with self.cv:
            self.loaded.pop(str(entry.name), None)

    def running_models(self):
        with self.cv:
            self._expire()
            return sorted(self.loaded.values(), key=lambda m: m.expires_ns, reverse=True)

    def _expire(self):
        now = time.time_ns()
        for key in [k for k, m in self.loaded.items() if m.expires_ns <= now]:
            del self.loaded[key]
