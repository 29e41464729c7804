#!/usr/bin/env bash
# Execution Environment support, checked without a container engine: the collection's tarball in
# an EE definition like the one docs/docsite/rst/guide_awx.rst shows, `ansible-builder create`
# writes the build context, and the context and what ansible-builder reads from the installed
# collection (meta/execution-environment.yml) are checked: pyroute2 and iproute2, nothing of the
# developers' requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_NOCOLOR=1
command -v ansible-builder > /dev/null || { echo "ee: ansible-builder missing from .venv: run scripts/bootstrap.sh"; exit 1; }
ee=$PWD/.build/ee
rm -rf "$ee" && mkdir -p "$ee/collections"
ansible-galaxy collection build --force --output-path "$ee" > /dev/null
tarball=$(basename "$(find "$ee" -maxdepth 1 -name 'linuxnet-macvlan-*.tar.gz' | head -n 1)")
cat > "$ee/execution-environment.yml" << EOF
version: 3
images:
  base_image:
    name: quay.io/ansible/awx-ee:latest
additional_build_files:
  - src: $tarball
    dest: collections
dependencies:
  galaxy:
    collections:
      - name: /build/collections/$tarball
        type: file
additional_build_steps:
  prepend_galaxy:
    - COPY _build/collections/ /build/collections/
EOF
echo "ee: ansible-builder $(ansible-builder --version)"
(cd "$ee" && ansible-builder create --file execution-environment.yml --context context --output-filename Containerfile)
fail() { echo "ee: $*"; exit 1; }
context=$ee/context
[ -s "$context/Containerfile" ] || fail "no Containerfile in the build context"
[ -s "$context/_build/collections/$tarball" ] || fail "the collection's tarball is not in the build context"
grep -q "COPY _build/collections/ /build/collections/" "$context/Containerfile" || fail "the Containerfile does not copy the collection"
grep -q "ansible-galaxy collection install" "$context/Containerfile" || fail "the Containerfile installs no collection"
grep -rq "$tarball" "$context/_build/requirements.yml" || fail "_build/requirements.yml does not name the tarball"
echo "ee: build context in $context: Containerfile, the collection's tarball, requirements.yml"

# What ansible-builder collects from the installed collection at build time (introspect).
ansible-galaxy collection install --force --no-deps -p "$ee/collections" "$ee/$tarball" > /dev/null 2>&1
ansible-builder introspect --sanitize --write-pip "$ee/pip.txt" --write-bindep "$ee/bindep.txt" "$ee/collections" > "$ee/introspect.log"
cat "$ee/introspect.log"
grep -qE '^pyroute2>=0\.7\.2 *# from collection linuxnet\.macvlan$' "$ee/pip.txt" || fail "introspection found no 'pyroute2>=0.7.2' from linuxnet.macvlan: $(cat "$ee/pip.txt")"
grep -qE '^iproute2 .*# from collection linuxnet\.macvlan$' "$ee/bindep.txt" || fail "introspection found no iproute2 from linuxnet.macvlan: $(cat "$ee/bindep.txt")"
if grep -qiE '^(pytest|molecule|ansible-lint|hypothesis|ansible-core|ansible|ansible-builder|vermin)\b' "$ee/pip.txt"; then
    fail "the EE's Python requirements hold development tools: $(cat "$ee/pip.txt")"
fi
echo "ee: ansible-builder reads pyroute2>=0.7.2 and iproute2 from linuxnet.macvlan, and no development tool"
