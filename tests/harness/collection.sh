#!/usr/bin/env bash
# Builds the collection tarball, checks it carries no test output, caches or virtualenvs, installs
# it offline into an empty collections path and loads a module and a role from the installed copy;
# then writes the execution environment's build context (ansible-builder create, no image: no registry
# here) from execution-environment.yml and checks the installed collection's EE dependencies are read.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
out=build/collection
rm -rf "$out" && mkdir -p "$out/installed"
ansible-galaxy collection build --output-path "$out" .
tarball=$(ls "$out"/llmops-ollama-*.tar.gz)

unwanted=$(tar tzf "$tarball" | grep -E '(^|/)(__pycache__|\.pytest_cache|\.venv|\.ansible|\.git|build|tests/output)(/|$)|\.pyc$' || true)
[ -z "$unwanted" ] || die "the tarball carries files it must not: $unwanted"

# dependencies are satisfied by the ansible package, found through the Python path
ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-galaxy collection install --offline -p "$out/installed" "$tarball"
ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-doc llmops.ollama.ollama_model | head -1
ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-doc -t role llmops.ollama.ollama | head -1
echo "$(basename "$tarball"): $(tar tzf "$tarball" | wc -l) files, $(du -k "$tarball" | cut -f1) KiB, installs offline"

# The build context takes the tarball above (execution-environment.yml's additional_build_files).
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
ansible-builder create -f execution-environment.yml -c "$context" --output-filename Containerfile >/dev/null
[ -s "$context/Containerfile" ] || die "ansible-builder create wrote no Containerfile"
grep -q '^FROM ' "$context/Containerfile" || die "the Containerfile has no FROM line"
[ -f "$context/_build/collections/$(basename "$tarball")" ] || die "the EE build context lacks $(basename "$tarball")"
# What the image build will read from meta/execution-environment.yml (introspect runs inside the build).
deps=$(ansible-builder introspect --sanitize "$out/installed")
grep -q 'from collection llmops.ollama' <<<"$deps" || die "ansible-builder introspect did not read meta/execution-environment.yml: $deps"
echo "execution environment: build context with a Containerfile written, meta/execution-environment.yml read"
