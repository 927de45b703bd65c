# Entry points; the scripts under tests/harness do the work.
.PHONY: demo demo-down test test-fast setup molecule

# Sets this machine up, starts local systemd containers standing in for GPU hosts and converges them with site.yml.
demo:
	bash tests/harness/demo.sh up

demo-down:
	bash tests/harness/demo.sh down

# Every test: the set-up, unit, lint, sanity, the demo end to end and every Molecule scenario, three steps at a
# time (LLMOPS_TEST_JOBS), checked against the time budget in docs/testing.md.
test:
	bash tests/harness/run-tests.sh full

# Unit tests, ansible-lint and ansible-test only (no test hosts).
test-fast:
	bash tests/harness/run-tests.sh fast

# One scenario (and the set-up it needs): make molecule SCENARIO=ollama_native
molecule:
	bash tests/harness/run-tests.sh full $(SCENARIO)

setup:
	bash tests/harness/setup.sh
