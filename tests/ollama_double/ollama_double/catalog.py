"""The tiny fake models the bundled registry serves, generated deterministically from code.

Every run produces the same bytes, so digests are stable across machines and builds.
Revision 2 changes `smollm2:latest` (new params layer, same weights) so `state: latest` sees a new digest.
"""
import functools
import hashlib
import json

from . import gguf
from .store import CONFIG_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, MEDIA_PREFIX
from .wire import go_json

CHATML = ("{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
          "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n")
APACHE = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n"

_SPECS = {
    "smollm2": {
        "arch": "llama", "params": 134515008, "file_type": 7, "ctx": 8192, "embed": 576, "weights": 96 * 1024,
        "blocks": 30, "heads": 9, "kv_heads": 3, "vocab": 49152,
        "template": CHATML, "system": "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
        "license": APACHE, "parameters": {"stop": ["<|im_start|>", "<|im_end|>"]},
    },
    "qwen2.5": {
        "arch": "qwen2", "params": 494032768, "file_type": 15, "ctx": 32768, "embed": 896, "weights": 160 * 1024,
        "blocks": 24, "heads": 14, "kv_heads": 2, "vocab": 151936,
        "template": CHATML, "system": "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
        "license": APACHE, "parameters": {"stop": ["<|im_start|>", "<|im_end|>"]},
    },
    "all-minilm": {
        "arch": "bert", "params": 22565376, "file_type": 1, "ctx": 512, "embed": 384, "weights": 48 * 1024,
        "blocks": 6, "heads": 12, "vocab": 30522,
        "pooling": 1, "license": APACHE, "parameters": {"num_ctx": 256},
    },
}

# (namespace/model, tag) -> which spec it serves
TAGS = {
    ("library/smollm2", "135m"): "smollm2",
    ("library/smollm2", "latest"): "smollm2",
    ("library/qwen2.5", "0.5b"): "qwen2.5",
    ("library/qwen2.5", "latest"): "qwen2.5",
    ("library/all-minilm", "latest"): "all-minilm",
    ("library/all-minilm", "22m"): "all-minilm",
}
# Tags whose content moves with the registry's revision.
REVISED = {("library/smollm2", "latest")}


def _filler(seed, size):
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(("%s/%d" % (seed, counter)).encode()).digest()
        counter += 1
    return bytes(out[:size])


def _weights(key, spec):
    arch = spec["arch"]
    kv = {
        "general.architecture": arch,
        "general.name": key,
        "general.parameter_count": spec["params"],
        "general.file_type": spec["file_type"],
        "general.quantization_version": 2,
        "%s.context_length" % arch: spec["ctx"],
        "%s.embedding_length" % arch: spec["embed"],
        "%s.block_count" % arch: spec["blocks"],
        "%s.attention.head_count" % arch: spec["heads"],
        "%s.vocab_size" % arch: spec["vocab"],
        "tokenizer.ggml.model": "gpt2",
    }
    # Encoders (bert) have no grouped-query attention and no head_count_kv key, as in real GGUF files.
    if "kv_heads" in spec:
        kv["%s.attention.head_count_kv" % arch] = spec["kv_heads"]
    if "pooling" in spec:
        kv["%s.pooling_type" % arch] = spec["pooling"]
    return gguf.encode(kv, _filler(key, spec["weights"]))


class Artifact:
    """One manifest with its blobs: {digest: bytes}."""

    def __init__(self, manifest, blobs):
        self.manifest = manifest
        self.blobs = blobs
        self.digest = "sha256:" + hashlib.sha256(manifest).hexdigest()


@functools.lru_cache(maxsize=None)
def build(key, revision=1):
    spec = _SPECS[key]
    blobs = {}
    layers = []

    def add(media, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        layers.append({"mediaType": media, "digest": digest, "size": len(data)})

    add(MEDIA_PREFIX + "model", _weights(key, spec))
    for kind in ("template", "system", "license"):
        if spec.get(kind):
            add(MEDIA_PREFIX + kind, spec[kind].encode())
    params = dict(spec["parameters"])
    if revision > 1:
        params["temperature"] = round(0.1 * revision, 1)
    add(MEDIA_PREFIX + "params", json.dumps(params, sort_keys=True).encode())
    config = {
        "model_format": "gguf", "model_family": spec["arch"], "model_families": [spec["arch"]],
        "model_type": gguf.human_number(spec["params"]), "file_type": gguf.FILE_TYPES[spec["file_type"]],
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"] for layer in layers]},
    }
    raw_config = go_json(config).encode()
    config_digest = "sha256:" + hashlib.sha256(raw_config).hexdigest()
    blobs[config_digest] = raw_config
    manifest = {
        "schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": len(raw_config)},
        "layers": layers,
    }
    return Artifact(go_json(manifest).encode(), blobs)


def lookup(repo, tag, revision=1):
    key = TAGS.get((repo.lower(), tag.lower()))
    if key is None:
        return None
    return build(key, revision if (repo.lower(), tag.lower()) in REVISED else 1)


def all_blobs(revision=1):
    found = {}
    for repo, tag in TAGS:
        found.update(lookup(repo, tag, revision).blobs)
    if revision != 1:
        found.update(all_blobs(1))
    return found
