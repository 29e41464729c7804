#!/usr/bin/env bash
# The collection as users get it: build the tarball, install it somewhere else,
# render every module's docs from there and run a module from the installed copy.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
rm -rf .build/dist .build/installed
ansible-galaxy collection build --force --output-path .build/dist >/dev/null
tarball=$(find .build/dist -name "linuxnet-macvlan-*.tar.gz" | head -n 1)
# Look only at the install location, not at the checkout's own collection path.
mkdir -p .build/installed
printf "[defaults]\ncollections_path = %s\n" "$PWD/.build/installed" > .build/installed.cfg
export ANSIBLE_CONFIG="$PWD/.build/installed.cfg"
ansible-galaxy collection install --force -p .build/installed "$tarball" >/dev/null
test -f .build/installed/ansible_collections/linuxnet/macvlan/MANIFEST.json
echo "built and installed $tarball"
for file in plugins/modules/*.py; do
    module=$(basename "$file" .py)
    doc=$(ansible-doc "linuxnet.macvlan.$module")
    for section in OPTIONS EXAMPLES "RETURN VALUES"; do
        grep -q "^$section" <<<"$doc" || { echo "ansible-doc $module: no $section section"; exit 1; }
    done
    echo "ansible-doc linuxnet.macvlan.$module: OPTIONS, EXAMPLES, RETURN VALUES rendered"
done
ns="lnbuild$$"
out=$(ansible localhost -c local -e ansible_python_interpreter="$PWD/.venv/bin/python" \
      -m linuxnet.macvlan.netns -a "name=$ns" --check)
grep -q "CHANGED" <<<"$out" || { echo "installed module did not run: $out"; exit 1; }
[ ! -e "/run/netns/$ns" ] || { echo "check mode created $ns"; exit 1; }
echo "installed collection runs (netns module, check mode)"
for plugin in filter:layout_merge filter:fleet_problems filter:with_host_access filter:with_applied_macs \
              lookup:engine_archive; do
    ansible-doc -t "${plugin%%:*}" "linuxnet.macvlan.${plugin#*:}" | grep -q "^EXAMPLES" \
        || { echo "ansible-doc -t ${plugin%%:*} ${plugin#*:}: no EXAMPLES"; exit 1; }
done
echo "ansible-doc of every filter and lookup rendered"
# The playbook users run by name, with both roles, from the installed copy.
tasks=$(ansible-playbook -i localhost, linuxnet.macvlan.site --list-tasks)
for role in macvlan_topology arp_sysctl; do
    grep -q "linuxnet.macvlan.$role : " <<<"$tasks" || { echo "linuxnet.macvlan.site lists no $role task: $tasks"; exit 1; }
done
echo "ansible-playbook linuxnet.macvlan.site resolves both roles from the installed copy"
