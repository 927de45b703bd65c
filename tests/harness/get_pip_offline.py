"""Stand-in for the get-pip.py that ansible-test downloads from a host this machine cannot reach.

ansible-test runs it inside a fresh virtual environment with pip-style arguments (`pip==X --no-setuptools
--no-wheel ...`). It installs them with the pip wheel bundled in the standard library's ensurepip,
which then fetches the requested pip from the package index like any other package.
"""
import glob
import os
import sys

import ensurepip


def main():
    bundled = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl'))
    if not bundled:
        sys.exit('ensurepip has no bundled pip wheel: install python3-pip-whl or a Python with ensurepip')
    sys.path.insert(0, bundled[0])
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    sys.exit(pip_main(['install', '--disable-pip-version-check'] + args))


if __name__ == '__main__':
    main()
