#!/usr/bin/env bash
# The project's test command. Layers:
#   fast  pytest unit tests (modules, module_utils, the Ollama double), changelog fragments, role and module docs,
#         ansible-lint (production), the collection tarball built and installed offline (and the execution
#         environment's build context), ansible-test sanity and units
#   full  fast + every Molecule scenario end to end (create, converge, idempotence, verify, destroy)
#         + the README's demo, converged twice (the second run must change nothing)
# Usage: run-tests.sh [fast|full] [scenario ...]   (scenarios default to every molecule/*/)
# Every step runs even when an earlier one failed; the exit status is non-zero if any failed.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
layer=${1:-full}
shift || true
cd "$REPO_ROOT" || exit 1

passed=0 failed=0 failures=() timings=()
step() {
  local name=$1; shift
  log "$name"
  local start=$SECONDS
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
  timings+=("$(printf '%5ss  %s' $((SECONDS - start)) "$name")")
}

pytest_unit() {
  local paths=()
  for path in tests/unit tests/ollama_double/tests; do [ -d "$path" ] && paths+=("$path"); done
  PYTHONPATH="$COLLECTIONS_DIR" python -m pytest -q -p no:cacheprovider -n 2 "${paths[@]}"
  local rc=$?
  [ $rc -eq 5 ] && { echo "no unit tests collected"; return 1; }
  return $rc
}

# A scenario's output is kept in build/logs/<scenario>.log; the summary repeats the end of a failed one's,
# so the cause is in the last lines CI shows.
scenario_logged() {
  mkdir -p "$REPO_ROOT/build/logs"
  molecule test -s "$1" 2>&1 | tee "$REPO_ROOT/build/logs/$1.log"
}

case $layer in
  fast|full) ;;
  *) die "usage: $0 [fast|full] [scenario ...]" ;;
esac

step "pytest: unit tests" pytest_unit
step "changelog fragments (antsibull-changelog lint, trial release)" "$REPO_ROOT/tests/harness/changelog.sh" check
step "role docs: defaults agree with argument specs, README tables generated" python tests/tools/role_docs.py --check
step "module docs: docs/modules generated from the modules' documentation" python tests/tools/module_docs.py --check
step "ansible-lint (production profile)" ansible-lint
step "collection build and offline install" "$REPO_ROOT/tests/harness/collection.sh"
step "ansible-test sanity" "$REPO_ROOT/tests/harness/sanity.sh" sanity
if [ -d tests/unit/plugins ]; then
  step "ansible-test units" "$REPO_ROOT/tests/harness/sanity.sh" units
fi

if [ "$layer" = full ]; then
  step "build the Ollama double's releases and images" python tests/ollama_double/build_artifacts.py --out build/ollama-artifacts --images --save
  scenarios=("$@")
  if [ ${#scenarios[@]} -eq 0 ]; then
    for dir in molecule/*/; do [ -f "$dir/molecule.yml" ] && scenarios+=("$(basename "$dir")"); done
  fi
  for scenario in "${scenarios[@]}"; do
    step "molecule test -s $scenario" scenario_logged "$scenario"
  done
  if [ $# -eq 0 ]; then
    step "demo: README quick start, converged twice" bash tests/harness/demo.sh test
  fi
fi

log "summary"
printf '%s\n' "${timings[@]}"
for name in "${failures[@]}"; do
  if [[ $name == "molecule test -s "* ]]; then
    echo "--- last lines of ${name#molecule test -s }'s log (build/logs) ---"
    grep -v -E '^\S+ [0-9]+ \S+ [0-9]+ +[0-9:]+ \+0000 \(|^\s*$' "$REPO_ROOT/build/logs/${name#molecule test -s }.log" | tail -n 60
  fi
done
for name in "${failures[@]}"; do echo "FAILED: $name"; done
echo "harness: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
