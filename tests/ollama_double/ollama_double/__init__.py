"""A standard-library stand-in for the Ollama server, CLI and model registry, for offline tests.

The version (and whether `serve` refuses to start) is baked into packaged builds through
`build.json` next to this file; a source checkout reports DEFAULT_VERSION.
"""
import json
import os

DEFAULT_VERSION = "0.32.15"


def _build_info():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


BUILD = _build_info()
# Baked builds always report their own version; a source checkout may be told which one to play.
VERSION = BUILD.get("version") or os.environ.get("OLLAMA_DOUBLE_VERSION") or DEFAULT_VERSION
BROKEN = bool(BUILD.get("broken"))
