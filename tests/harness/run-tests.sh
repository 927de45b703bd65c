#!/usr/bin/env bash
# The project's test command (make test, make test-fast, make molecule): tests/harness/run_tests.py says how
# it runs. Usage: run-tests.sh [fast|full] [scenario ...] [--jobs N]
set -euo pipefail
cd "$(dirname "$0")/../.."
# The system's Python 3: the full layer builds the virtualenv as one of its steps.
exec python3 tests/harness/run_tests.py "$@"
