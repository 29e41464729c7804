#!/usr/bin/env bash
# ansible-test needs the collection at .../ansible_collections/linuxnet/macvlan:
# copy the tracked files there (the checkout itself may live anywhere) and run
# sanity in a virtualenv of its own, where ansible-test installs its pinned tools
# (--venv would fetch get-pip from a host outside the package registries).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
if [ ! -x .build/sanity-venv/bin/ansible-test ]; then
    python3 -m venv .build/sanity-venv
    .build/sanity-venv/bin/python -m pip install -q --disable-pip-version-check "$(grep '^ansible-core' requirements.txt)"
fi
export PATH="$top/.build/sanity-venv/bin:$PATH"
# ansible-test bootstraps pip in each tool virtualenv with a cached get-pip script.
pip_version=$(grep -ohP "pip='\K[0-9.]+" .build/sanity-venv/lib/python*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
mkdir -p ~/.ansible/test/cache
cp scripts/get-pip-offline.py ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"
work=.build/sanity/ansible_collections/linuxnet/macvlan
rm -rf .build/sanity/ansible_collections
mkdir -p "$work"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$work"/
cd "$work"
git init -q . && git add -A >/dev/null   # ansible-test lists files through git
python_version=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ansible-test sanity --requirements --python "$python_version" --color no "$@"
