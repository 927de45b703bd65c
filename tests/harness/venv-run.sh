#!/usr/bin/env bash
# Runs a command in the harness's environment: the virtualenv first on PATH, the collection path set
# (lib.sh). run_tests.py starts its steps through it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
exec "$@"
