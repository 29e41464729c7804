"""Stand-in for ansible-test's get-pip bootstrap script, which it downloads from a
host outside the package registries this project may use. Same contract: install
the requested pip (and packages) into the running interpreter's environment;
here from the bundled ensurepip wheel, then from PyPI."""

import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
wanted = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + wanted)
