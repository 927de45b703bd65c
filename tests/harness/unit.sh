#!/usr/bin/env bash
# The pytest step: the Ollama double's own tests, and the unit tests that need the `ansible` package's collections
# (marked needs_ansible_package). Every other test under tests/unit runs once, in ansible-test units (sanity.sh),
# which skips exactly those.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT" || exit 1
status=0
python -m pytest -q -p no:cacheprovider -n 2 --durations=10 tests/ollama_double/tests || status=1
PYTHONPATH="$COLLECTIONS_DIR" python -m pytest -q -p no:cacheprovider -m needs_ansible_package tests/unit
rc=$?
# 5: nothing collected, which means the marker went missing.
[ $rc -eq 5 ] && echo "no test marked needs_ansible_package was collected under tests/unit"
[ $rc -eq 0 ] || status=1
exit $status
