#!/usr/bin/env bash
# The demo: local systemd containers stand in for GPU hosts, a gateway and a mirror (inventory/demo) and
# are converged with site.yml, exactly as real hosts would be; it writes the fleet report and ends with
# authenticated requests through each host's proxy and through the gateway, and the report's path.
#   up     set up this machine, start the hosts, converge, check   (make demo)
#   down   remove the demo's containers                            (make demo-down)
#   test   up, then converge again expecting no change, then down  (part of make test)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
inventory=inventory/demo
# As docs/fleet.md recommends for fleets: one `docker exec` per task instead of a copy, a chmod and a run.
export ANSIBLE_PIPELINING=${ANSIBLE_PIPELINING:-true}
# The demo's hosts are containers on one machine, rebuilt each time: one batch, not a canary first.
batches='{"ollama_rollout_batches": ["100%"]}'

up() {
  bash tests/harness/setup.sh
  log "building the Ollama double's releases (stand-ins for upstream's, served by the demo mirror)"
  python tests/ollama_double/build_artifacts.py --out build/ollama-artifacts
  log "starting the demo hosts"
  ansible-playbook -i "$inventory" tests/harness/demo/up.yml
  log "ansible-playbook site.yml -i $inventory -e '$batches'"
  ansible-playbook -i "$inventory" site.yml -e "$batches"
  log "the fleet report"
  ansible-playbook -i "$inventory" playbooks/report.yml -e "ollama_report_dir=$REPO_ROOT/build/reports"
  log "authenticated requests: through each host's proxy, then through the gateway"
  ansible-playbook -i "$inventory" tests/harness/demo/check.yml
  echo "fleet report: $(find "$REPO_ROOT/build/reports" -name 'fleet-*.html' -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)"
}

down() {
  ansible-playbook -i "$inventory" tests/harness/demo/down.yml
}

case ${1:-up} in
  up) up ;;
  down) down ;;
  test)
    trap down EXIT
    up
    log "converging again: nothing may change"
    ansible-playbook -i "$inventory" site.yml -e "$batches" | tee build/demo-second-run.log
    grep -Eq 'changed=[1-9]|failed=[1-9]' build/demo-second-run.log && die "the second site.yml run changed something"
    echo "second run: changed=0 on every host"
    ;;
  *) die "usage: $0 up|down|test" ;;
esac
