"""`python3 -m ollama_double ...` behaves like the `ollama` binary (plus the `registry` helper command)."""
import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
