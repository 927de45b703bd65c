#!/usr/bin/env bash
# The pytest unit tests: modules, module_utils, filters, playbooks in check mode, the report, the repository's
# own guards, and the Ollama double. Two workers: the playbook tests start an ansible-playbook each.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
paths=()
for path in tests/unit tests/ollama_double/tests; do [ -d "$path" ] && paths+=("$path"); done
PYTHONPATH="$COLLECTIONS_DIR" python -m pytest -q -p no:cacheprovider -n 2 --durations=25 "${paths[@]}"
rc=$?
[ $rc -eq 5 ] && { echo "no unit tests collected"; exit 1; }
exit $rc
