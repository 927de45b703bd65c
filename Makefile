# Entry points; the scripts under tests/harness do the work.
.PHONY: demo demo-down test test-fast setup molecule

# Sets this machine up, starts local systemd containers standing in for GPU hosts and converges them with site.yml.
demo:
	bash tests/harness/demo.sh up

demo-down:
	bash tests/harness/demo.sh down

# Every test: unit, lint, sanity, the demo end to end and every Molecule scenario.
test: setup
	bash tests/harness/run-tests.sh full

# Unit tests, ansible-lint and ansible-test only (no test hosts).
test-fast: setup
	bash tests/harness/run-tests.sh fast

# One scenario: make molecule SCENARIO=ollama_native
molecule: setup
	bash tests/harness/run-tests.sh full $(SCENARIO)

setup:
	bash tests/harness/setup.sh
