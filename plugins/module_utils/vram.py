# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GPU memory sizing for Ollama: nvidia-smi parsing, a per-model memory estimate and a per-host plan.

Pure Python without third-party imports: the nvidia_gpu_info module runs it on managed hosts and the
vram filters on the controller. docs/vram-sizing.md explains the formula, its constants and its error.

Internal to llmops.ollama, not a public API: it may change in any release (plugins/module_utils/README.md).
"""

from __future__ import annotations

import re

MIB = 1024 * 1024
GIB = 1024 * MIB

# The query nvidia_gpu_info runs, and the order of the CSV columns it parses.
GPU_QUERY_FIELDS = ('name', 'uuid', 'memory.total', 'memory.used', 'compute_cap', 'driver_version')

# Bytes per KV cache element: ggml's q8_0 and q4_0 blocks hold 32 values plus one f16 scale.
KV_BYTES = {'f16': 2.0, 'q8_0': 34.0 / 32, 'q4_0': 18.0 / 32}
# Bits per weight of GGUF quantizations (llama.cpp's quantize table, rounded), for entries that give
# parameters_b instead of a download size.
QUANT_BITS = {
    'F32': 32.0, 'F16': 16.0, 'BF16': 16.0, 'Q8_0': 8.5, 'Q6_K': 6.56, 'Q5_K_M': 5.69, 'Q5_K_S': 5.54,
    'Q5_0': 5.5, 'Q4_K_M': 4.85, 'Q4_K_S': 4.58, 'Q4_0': 4.5, 'Q3_K_M': 3.91, 'Q3_K_S': 3.5, 'Q2_K': 3.35,
}
# Ollama keeps this much free per GPU for the CUDA context and cuBLAS workspace (its cudaMinimumMemory).
CUDA_OVERHEAD = 457 * MIB
# Compute graph: float32 activations of one 512-token batch across the hidden state (4 x embedding,
# the feed-forward input) or the output logits (embedding + vocabulary), whichever is larger. Without
# flash attention the attention scores add context x (1 + heads) per token.
GRAPH_BATCH = 512
DEFAULT_VOCAB = 32000
# Architectures that encode without a KV cache (embedding models).
ENCODER_ARCHES = ('bert', 'nomic-bert', 'nomic-bert-moe', 'jina-bert-v2', 'xlm-roberta', 't5encoder')

# Common models: architecture constants from their published configurations (as GGUF model_info names
# them) and the download size Ollama's library lists for the default quantization, in bytes.
# name -> (architecture, block_count, embedding_length, head_count, head_count_kv, context_length,
#          vocab_size, size, quantization[, key_length])
_TABLE = {
    'llama3.2:1b': ('llama', 16, 2048, 32, 8, 131072, 128256, 1321082688, 'Q8_0'),
    'llama3.2:3b': ('llama', 28, 3072, 24, 8, 131072, 128256, 2019393189, 'Q4_K_M'),
    'llama3.1:8b': ('llama', 32, 4096, 32, 8, 131072, 128256, 4920753328, 'Q4_K_M'),
    'llama3:8b': ('llama', 32, 4096, 32, 8, 8192, 128256, 4661224676, 'Q4_0'),
    'llama3.1:70b': ('llama', 80, 8192, 64, 8, 131072, 128256, 42520413916, 'Q4_K_M'),
    'llama3.3:70b': ('llama', 80, 8192, 64, 8, 131072, 128256, 42520397704, 'Q4_K_M'),
    'llama3.1:405b': ('llama', 126, 16384, 128, 8, 131072, 128256, 243000000000, 'Q4_K_M'),
    'mistral:7b': ('llama', 32, 4096, 32, 8, 32768, 32768, 4113301824, 'Q4_0'),
    'mixtral:8x7b': ('llama', 32, 4096, 32, 8, 32768, 32000, 26442481545, 'Q4_0'),
    'qwen2.5:0.5b': ('qwen2', 24, 896, 14, 2, 32768, 151936, 397821319, 'Q4_K_M'),
    'qwen2.5:7b': ('qwen2', 28, 3584, 28, 4, 32768, 152064, 4683087332, 'Q4_K_M'),
    'qwen2.5:14b': ('qwen2', 48, 5120, 40, 8, 32768, 152064, 8988124069, 'Q4_K_M'),
    'qwen2.5:32b': ('qwen2', 64, 5120, 40, 8, 32768, 152064, 19851336256, 'Q4_K_M'),
    'qwen2.5:72b': ('qwen2', 80, 8192, 64, 8, 32768, 152064, 47415724672, 'Q4_K_M'),
    'gemma2:9b': ('gemma2', 42, 3584, 16, 8, 8192, 256000, 5443152417, 'Q4_0', 256),
    'smollm2:135m': ('llama', 30, 576, 9, 3, 8192, 49152, 270898672, 'F16'),
    'nomic-embed-text:v1.5': ('nomic-bert', 12, 768, 12, 12, 2048, 30522, 274302450, 'F16'),
    'mxbai-embed-large:335m': ('bert', 24, 1024, 16, 16, 512, 30522, 669615493, 'F16'),
    'all-minilm:22m': ('bert', 6, 384, 12, 12, 512, 30522, 45960996, 'F16'),
}
_ALIASES = {
    'llama3.2:latest': 'llama3.2:3b', 'llama3.1:latest': 'llama3.1:8b', 'llama3:latest': 'llama3:8b',
    'llama3.3:latest': 'llama3.3:70b', 'mistral:latest': 'mistral:7b', 'mixtral:latest': 'mixtral:8x7b',
    'qwen2.5:latest': 'qwen2.5:7b', 'gemma2:latest': 'gemma2:9b', 'smollm2:latest': 'smollm2:135m',
    'nomic-embed-text:latest': 'nomic-embed-text:v1.5', 'mxbai-embed-large:latest': 'mxbai-embed-large:335m',
    'all-minilm:latest': 'all-minilm:22m',
}
_META_KEYS = ('architecture', 'block_count', 'embedding_length', 'head_count', 'head_count_kv',
              'context_length', 'vocab_size', 'size', 'quantization', 'key_length')


class VramError(ValueError):
    """Input that cannot be sized; the message says what to fix."""


def gib(value):
    """Bytes as people read GPU memory: GiB with one decimal, MiB below 1 GiB."""
    if abs(value) < GIB:
        return '%d MiB' % round(value / float(MIB))
    return '%.1f GiB' % (value / float(GIB))


def parse_nvidia_smi(text):
    """GPUs from `nvidia-smi --query-gpu=<GPU_QUERY_FIELDS> --format=csv,noheader,nounits` output."""
    gpus = []
    for index, line in enumerate(line for line in text.splitlines() if line.strip()):
        fields = [field.strip() for field in line.split(',')]
        if len(fields) != len(GPU_QUERY_FIELDS):
            raise VramError('nvidia-smi line %r has %d fields, expected %d (%s)'
                            % (line, len(fields), len(GPU_QUERY_FIELDS), ', '.join(GPU_QUERY_FIELDS)))
        name, uuid, total, used, compute_cap, driver = fields
        gpus.append(dict(index=index, name=name, uuid=uuid, memory_total_mib=_mib(total),
                         memory_used_mib=_mib(used), compute_capability=_known(compute_cap),
                         driver_version=_known(driver)))
    return gpus


def _known(value):
    return None if value.startswith('[') else value


def _mib(value):
    try:
        return int(float(value))
    except ValueError:
        return None


def _gpu_label(gpu):
    return 'GPU %s (%s, %s)' % (gpu.get('index'), gpu.get('name'), gpu.get('uuid'))


def _named(gpus, ids, source):
    """The GPUs that ids name: an index into gpus (the server's own numbering) or a UUID."""
    named = []
    for gpu_id in ids:
        if gpu_id.isdigit():
            match = gpus[int(gpu_id):int(gpu_id) + 1]
        else:
            match = [gpu for gpu in gpus if str(gpu.get('uuid')).lower() == gpu_id.lower()]
        if not match:
            raise VramError('%s names GPU %s, which matches none of the %d GPU(s) the server can see: %s' % (
                source, gpu_id, len(gpus), ', '.join('%d = %s' % (n, _gpu_label(g)) for n, g in enumerate(gpus))))
        named += [gpu for gpu in match if gpu not in named]
    return named


def select_gpus(gpus, reserved='all', visible=None):
    """(the GPUs the Ollama server can use, one line for each other GPU saying why it is left out).

    reserved: what a compose container reserves (ollama_compose_gpu_devices): 'all', a number of GPUs (the
    first ones: Docker's count takes indexes 0 to count - 1; 0 for no reservation) or a list of nvidia-smi
    indexes or UUIDs (device_ids). visible: the server's CUDA_VISIBLE_DEVICES, comma separated indexes among
    the GPUs it sees (a container numbers its own from 0) or UUIDs; CUDA stops at a negative index, so -1
    hides them all (Ollama's documented way to force the CPU).
    """
    used, left_out = list(gpus), []

    def keep(kept, why):
        left_out.extend('%s left out: %s' % (_gpu_label(gpu), why) for gpu in used if gpu not in kept)
        return kept

    def mig(ids, variable):
        # nvidia-smi --query-gpu lists whole GPUs only: a MIG slice cannot be sized, so its GPU is sized whole.
        slices = [gpu_id for gpu_id in ids if gpu_id.upper().startswith('MIG-') or ':' in gpu_id]
        if slices:
            left_out.append('%s names MIG instances (%s): their whole GPUs are sized' % (variable, ', '.join(slices)))
        return bool(slices)

    if not used:
        return used, left_out
    if isinstance(reserved, (list, tuple)):
        ids = [str(gpu_id).strip() for gpu_id in reserved]
        if not mig(ids, 'ollama_compose_gpu_devices'):
            used = keep(_named(used, ids, 'ollama_compose_gpu_devices'),
                        'the container reserves only %s (ollama_compose_gpu_devices)' % ', '.join(ids))
    elif str(reserved) != 'all':
        count = int(reserved)
        if count > len(used):
            raise VramError('ollama_compose_gpu_devices reserves %d GPUs, but nvidia-smi lists %d: %s' % (
                count, len(used), ', '.join(_gpu_label(gpu) for gpu in used)))
        used = keep(used[:count], 'the container reserves the first %d GPU(s) (ollama_compose_gpu_devices)' % count
                    if count else 'the container reserves no GPU (ollama_compose_gpus is false)')
    if visible is not None:
        ids = []
        for gpu_id in (part.strip() for part in str(visible).split(',')):
            if re.match(r'^-[0-9]+$', gpu_id):
                break
            if gpu_id:
                ids.append(gpu_id)
        if not mig(ids, 'CUDA_VISIBLE_DEVICES'):
            used = keep(_named(used, ids, 'CUDA_VISIBLE_DEVICES'), 'CUDA_VISIBLE_DEVICES=%s hides it' % visible)
    return used, left_out


def canonical_name(name):
    """`host/library/model:tag` and `model` -> `model:tag` as the table keys it (namespace kept otherwise)."""
    name = name.strip()
    tag = 'latest'
    last = name.rsplit('/', 1)[-1]
    if ':' in last:
        name, tag = name.rsplit(':', 1)
    parts = name.split('/')
    if len(parts) > 1 and ('.' in parts[0] or ':' in parts[0] or parts[0] == 'localhost'):
        parts = parts[1:]
    if len(parts) > 1 and parts[0] == 'library':
        parts = parts[1:]
    return ('/'.join(parts) + ':' + tag).lower()


def table_metadata(name):
    """Metadata of a model the collection knows, or None."""
    key = canonical_name(name)
    row = _TABLE.get(_ALIASES.get(key, key))
    if row is None:
        return None
    meta = dict(zip(_META_KEYS, row))
    meta.setdefault('key_length', None)
    return meta


def metadata_from_show(show, size=None):
    """Metadata from an /api/show answer (model_info and details) and the /api/tags size in bytes."""
    info = show.get('model_info') or {}
    arch = info.get('general.architecture')
    if not arch:
        raise VramError('the /api/show answer has no model_info general.architecture')

    def value(key):
        return info.get('%s.%s' % (arch, key))

    head_count = value('attention.head_count')
    meta = dict(
        architecture=arch, block_count=value('block_count'), embedding_length=value('embedding_length'),
        head_count=head_count, head_count_kv=value('attention.head_count_kv') or head_count,
        context_length=value('context_length'), vocab_size=value('vocab_size'), size=size,
        quantization=(show.get('details') or {}).get('quantization_level'), key_length=value('attention.key_length'),
    )
    if '%s.pooling_type' % arch in info:
        meta['embedding'] = True
    return meta


def complete_metadata(name, meta):
    """Fill what an ollama_models `vram` entry leaves out; the weight size from parameters_b if needed."""
    meta = dict(meta)
    for key in ('block_count', 'embedding_length', 'head_count'):
        if not meta.get(key):
            raise VramError('%s: vram metadata needs %s (from the model card or `ollama show -v`)' % (name, key))
    meta.setdefault('head_count_kv', meta['head_count'])
    meta['head_count_kv'] = meta['head_count_kv'] or meta['head_count']
    if not meta.get('size'):
        quant = str(meta.get('quantization') or 'Q4_K_M').upper()
        if not meta.get('parameters_b'):
            raise VramError('%s: vram metadata needs size (bytes) or parameters_b (billions of weights)' % name)
        if quant not in QUANT_BITS:
            raise VramError('%s: unknown quantization %s; one of %s' % (name, quant, ', '.join(sorted(QUANT_BITS))))
        meta['size'] = int(float(meta['parameters_b']) * 1e9 * QUANT_BITS[quant] / 8)
    return meta


def kv_bytes_per_token(meta, kv_type='f16'):
    """K and V of one token across all layers: 2 x layers x KV heads x head size x bytes per element."""
    if meta.get('embedding') or meta.get('architecture') in ENCODER_ARCHES:
        return 0.0
    head_dim = meta.get('key_length') or meta['embedding_length'] // meta['head_count']
    return 2.0 * meta['block_count'] * meta['head_count_kv'] * head_dim * KV_BYTES[kv_type]


def estimate(meta, context, parallel=1, kv_type='f16', flash_attention=True, gpu_count=1):
    """Bytes one loaded model takes in GPU memory, by term."""
    if meta.get('context_length'):
        context = min(context, meta['context_length'])
    kv_context = context * parallel
    embd = meta['embedding_length']
    scores = 0 if flash_attention else kv_context * (1 + meta['head_count'])
    graph = 4 * GRAPH_BATCH * max(1 + 4 * embd + scores, embd + (meta.get('vocab_size') or DEFAULT_VOCAB))
    terms = dict(weights=int(meta['size']), kv_cache=int(kv_bytes_per_token(meta, kv_type) * kv_context),
                 graph=int(graph), cuda=CUDA_OVERHEAD * max(gpu_count, 1))
    terms['total'] = sum(terms.values())
    terms['context'] = context
    return terms


def _resolve(entry, shown):
    """(name, metadata or None, num_ctx or None, source of the metadata) of one ollama_models entry."""
    name = entry['name']
    num_ctx = (entry.get('vram') or {}).get('num_ctx') or (entry.get('parameters') or {}).get('num_ctx')
    candidates = [name, entry.get('source'), entry.get('from')]
    match = re.search(r'^\s*FROM\s+(\S+)', entry.get('modelfile_content') or '', re.MULTILINE | re.IGNORECASE)
    if match:
        candidates.append(match.group(1))
    given = dict((k, v) for k, v in (entry.get('vram') or {}).items() if k != 'num_ctx' and v is not None)
    for candidate in [c for c in candidates if c]:
        if canonical_name(candidate) in shown:
            meta, origin = dict(shown[canonical_name(candidate)]), '/api/show'
            break
        meta = table_metadata(candidate)
        if meta:
            origin = 'table'
            break
    else:
        meta, origin = ({}, 'vram') if given else (None, None)
    if given:
        meta.update(given)
        origin = 'vram' if origin in (None, 'vram') else origin + '+vram'
    return name, (complete_metadata(name, meta) if meta is not None else None), num_ctx, origin


_SETTING_NAMES = ('OLLAMA_NUM_PARALLEL', 'OLLAMA_MAX_LOADED_MODELS', 'OLLAMA_CONTEXT_LENGTH',
                  'OLLAMA_KV_CACHE_TYPE', 'OLLAMA_FLASH_ATTENTION')
_TRUE = ('1', 't', 'true', 'yes', 'on')


def _levels(max_parallel, kv_types):
    """(KV type, parallel) pairs from most to least capable: parallelism first, q4_0 last."""
    levels = []
    parallel = max_parallel
    while parallel >= 1:
        levels += [(kv, parallel) for kv in kv_types if kv != 'q4_0']
        parallel //= 2
    if 'q4_0' in kv_types:
        levels.append(('q4_0', 1))
    return levels


def plan(gpus, entries, headroom_percent=10, settings=None, context_length=8192, min_context_length=2048,
         max_parallel=4, shown=None, left_out=()):
    """Settings under which the declared models fit fully in the GPUs' memory.

    gpus: parse_nvidia_smi() dicts of the GPUs the server can use; left_out: select_gpus()'s lines on the others;
    entries: ollama_models entries; settings: ollama_settings (given values are kept); shown: {canonical name:
    metadata_from_show()} for models the server already has.
    """
    settings = dict((k, v) for k, v in (settings or {}).items() if k in _SETTING_NAMES)
    result = dict(gpu_count=len(gpus), headroom_percent=headroom_percent, settings={}, chosen={},
                  reasons=list(left_out), models=[], unknown_models=[], fits=True, error=None)
    total_mib = sum(gpu.get('memory_total_mib') or 0 for gpu in gpus)
    usable = int(total_mib * MIB * (100 - float(headroom_percent)) / 100)
    result.update(vram_total_bytes=total_mib * MIB, vram_usable_bytes=usable)
    if not gpus:
        result['reasons'].append('%s: Ollama runs on the CPU, settings left to ollama_settings'
                                 % ('no GPU left to the server' if left_out else 'no NVIDIA GPU found'))
        return result

    models = []
    for entry in entries or []:
        if entry.get('state') == 'absent':
            continue
        name, meta, num_ctx, origin = _resolve(entry, shown or {})
        if meta is None:
            result['unknown_models'].append(name)
            continue
        models.append(dict(name=name, meta=meta, num_ctx=num_ctx, origin=origin))
    if result['unknown_models']:
        result['reasons'].append('not sized (add a vram entry to them): %s' % ', '.join(result['unknown_models']))
    if not models:
        result['reasons'].append('no declared model to size')
        return result

    caps = [gpu.get('compute_capability') for gpu in gpus]
    flash_ok = all(cap is None or float(cap) >= 7.0 for cap in caps)
    given_fa = settings.get('OLLAMA_FLASH_ATTENTION')
    flash = flash_ok if given_fa is None else str(given_fa).lower() in _TRUE
    kv_types = ['f16', 'q8_0', 'q4_0'] if flash else ['f16']
    if settings.get('OLLAMA_KV_CACHE_TYPE'):
        kv_types = [str(settings['OLLAMA_KV_CACHE_TYPE'])]
    if settings.get('OLLAMA_NUM_PARALLEL'):
        levels = [(kv, int(settings['OLLAMA_NUM_PARALLEL'])) for kv in kv_types]
    else:
        levels = _levels(max_parallel, kv_types)
    floor = max([min_context_length] + [m['num_ctx'] or 0 for m in models])
    if settings.get('OLLAMA_CONTEXT_LENGTH'):
        contexts = [int(settings['OLLAMA_CONTEXT_LENGTH'])]
    else:
        contexts = []
        context = max(int(context_length), floor)
        while context >= floor:
            contexts.append(context)
            context //= 2
        contexts = contexts or [floor]
    gpu_count = len(gpus)

    def sized(context, kv, parallel):
        out = []
        for model in models:
            terms = estimate(model['meta'], model['num_ctx'] or context, parallel, kv, flash, gpu_count)
            out.append(dict(model, **terms))
        return sorted(out, key=lambda m: -m['total'])

    best = None
    for context in contexts:
        for kv, parallel in levels:
            sizes = sized(context, kv, parallel)
            together, loaded = 0, 0
            for size in sizes:
                if together + size['total'] > usable:
                    break
                together += size['total']
                loaded += 1
            candidate = dict(context=context, kv=kv, parallel=parallel, sizes=sizes, loaded=loaded, together=together)
            if loaded == len(sizes):
                best = candidate
                break
            if loaded and (best is None or loaded > best['loaded']):
                best = candidate
        if best and best['loaded'] == len(models):
            break

    if best is None:
        smallest = sized(contexts[-1], levels[-1][0], levels[-1][1])
        result['fits'] = False
        result['models'] = [_report(m) for m in smallest]
        fitting = [m for m in smallest if m['total'] <= usable]
        result['error'] = (
            '%s cannot fit in GPU memory even at context %d, KV cache %s, %d request(s) at a time: %s, but %d GPU(s) '
            'have %s (%s with %s%% headroom); %s' % (
                ', '.join(m['name'] for m in smallest if m['total'] > usable), contexts[-1], levels[-1][0], levels[-1][1],
                ', '.join('%s needs %s' % (m['name'], gib(m['total'])) for m in smallest if m['total'] > usable),
                gpu_count, gib(total_mib * MIB), gib(usable), headroom_percent,
                ('fits: ' + ', '.join(m['name'] for m in fitting)) if fitting else
                'a model fits when it needs at most %s: choose a smaller model or quantization, or a bigger GPU'
                % gib(usable)))
        return result

    chosen = dict(OLLAMA_NUM_PARALLEL=best['parallel'], OLLAMA_MAX_LOADED_MODELS=best['loaded'],
                  OLLAMA_CONTEXT_LENGTH=best['context'], OLLAMA_KV_CACHE_TYPE=best['kv'])
    if flash:
        chosen['OLLAMA_FLASH_ATTENTION'] = True
    for name, value in chosen.items():
        if name in settings:
            result['settings'][name] = settings[name]
            result['chosen'][name] = 'given in ollama_settings'
        else:
            result['settings'][name] = value
            result['chosen'][name] = 'plan'
    result['models'] = [_report(m) for m in best['sizes']]
    result['estimate_bytes'] = best['together']
    result['reasons'].append(
        '%d model(s) loaded together need %s of %s usable (%s on %d GPU(s), %s%% headroom)'
        % (best['loaded'], gib(best['together']), gib(usable), gib(total_mib * MIB), gpu_count, headroom_percent))
    if best['loaded'] < len(models):
        result['reasons'].append('not all models fit at once: at most %d loaded, the others wait for a swap'
                                 % best['loaded'])
    if best['context'] < contexts[0]:
        result['reasons'].append('context %d (of %d wanted) to fit' % (best['context'], contexts[0]))
    if best['kv'] != 'f16':
        result['reasons'].append('%s KV cache (needs flash attention) to fit' % best['kv'])
    if flash and given_fa is None:
        result['reasons'].append('flash attention on: compute capability %s supports it and it shrinks the compute graph'
                                 % ', '.join(sorted(set(str(c) for c in caps))))
    return result


def _report(model):
    meta = model['meta']
    return dict(name=model['name'], metadata_from=model['origin'], context=model['context'],
                weights_bytes=model['weights'], kv_cache_bytes=model['kv_cache'], graph_bytes=model['graph'],
                cuda_bytes=model['cuda'], total_bytes=model['total'], estimate=gib(model['total']),
                kv_bytes_per_token=dict((kv, int(kv_bytes_per_token(meta, kv))) for kv in KV_BYTES))


def compare(plan_result, running):
    """Gaps between the plan and /api/ps: models partly on the CPU, and sizes off the estimate."""
    estimates = dict((canonical_name(m['name']), m['total_bytes']) for m in plan_result.get('models') or [])
    lines, spilled = [], []
    for model in running or []:
        size, vram = model.get('size') or 0, model.get('size_vram') or 0
        line = '%s: %s loaded, %s in GPU memory' % (model.get('name'), gib(size), gib(vram))
        expected = estimates.get(canonical_name(model.get('name') or ''))
        if expected:
            line += ', plan estimated %s (%+.0f%%)' % (gib(expected), 100.0 * (size - expected) / expected)
        if vram < size:
            spilled.append(model.get('name'))
            line += ', %s ON THE CPU' % gib(size - vram)
        lines.append(line)
    return dict(lines=lines, spilled=spilled)
