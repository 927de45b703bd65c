"""Print the pins for ollama_release_checksums, as JSON, from a trusted copy of the release files.

    release_checksums.py DIR    # DIR/v<version>/sha256sum.txt, as build_artifacts.py writes them

The test scenarios and the demo pin the releases the way a site pins upstream's: from a copy it trusts (here the
controller's build), not from the mirror the hosts download from.
"""
import json
import os
import re
import sys


def pins(root):
    found = {}
    for entry in sorted(os.listdir(root)):
        path = os.path.join(root, entry, 'sha256sum.txt')
        if not entry.startswith('v') or not os.path.isfile(path):
            continue
        with open(path) as f:
            for line in f:
                match = re.match(r'^([0-9a-f]{64})\s+\*?(?:\./)?ollama-linux-(amd64|arm64)\.', line)
                if match:
                    found.setdefault(entry[1:], {})[match.group(2)] = 'sha256:' + match.group(1)
    return found


if __name__ == '__main__':
    json.dump(pins(sys.argv[1]), sys.stdout, sort_keys=True)
