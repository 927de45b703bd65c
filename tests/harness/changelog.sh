#!/usr/bin/env bash
# Release notes come from changelogs/ (antsibull-changelog), never from hand edits of CHANGELOG.md.
#   check    lint the fragments and changelog.yaml, make a trial release of galaxy.yml's version in a
#            scratch copy (proves `antsibull-changelog release` will work) and compare CHANGELOG.md with
#            what antsibull-changelog writes for the recorded releases
#   preview  print the notes the next release would get (the trial release's CHANGELOG.md)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mode=${1:-check}
cd "$REPO_ROOT"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
version=$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')

trial_release() {
  cp -r galaxy.yml changelogs "$scratch/"
  # A version already in changelog.yaml is released: preview the next patch release instead.
  local next
  next=$(python - "$version" <<'PY'
import sys, yaml
version = sys.argv[1]
released = (yaml.safe_load(open("changelogs/changelog.yaml")) or {}).get("releases") or {}
if version in released:
    major, minor, patch = version.split(".")[:3]
    version = f"{major}.{minor}.{int(patch) + 1}"
print(version)
PY
)
  (cd "$scratch" && antsibull-changelog release --version "$next" --date "$(date +%F)" >/dev/null 2>"$scratch/release.log") \
    || { cat "$scratch/release.log" >&2; echo "changelog: a trial release of $next failed" >&2; return 1; }
  [ -s "$scratch/CHANGELOG.md" ] || { echo "changelog: the trial release wrote no CHANGELOG.md" >&2; return 1; }
}

case $mode in
  check)
    antsibull-changelog lint
    antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
    if python -c 'import sys, yaml; sys.exit(0 if (yaml.safe_load(open("changelogs/changelog.yaml")) or {}).get("releases") else 1)'; then
      antsibull-changelog generate --output "$scratch/CHANGELOG.md" --output-format md >/dev/null
      diff -u CHANGELOG.md "$scratch/CHANGELOG.md" \
        || { echo "changelog: CHANGELOG.md is not what antsibull-changelog generates: add a fragment under changelogs/fragments/ instead of editing it" >&2; exit 1; }
      rm -f "$scratch/CHANGELOG.md"
    elif grep -qE '^[[:space:]]*[-*] ' CHANGELOG.md; then
      echo "changelog: CHANGELOG.md has entries but no release is recorded: put them in changelogs/fragments/" >&2
      exit 1
    fi
    trial_release
    echo "changelog: fragments lint clean, trial release of galaxy.yml's version written"
    ;;
  preview)
    trial_release
    cat "$scratch/CHANGELOG.md"
    ;;
  *) die "usage: $0 check|preview" ;;
esac
