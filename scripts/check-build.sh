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
echo "built and installed $tarball ($(stat -c %s "$tarball") bytes)"
# The tarball holds what users run and nothing else (galaxy.yml build_ignore): compared with an
# allowlist, and every file users need is there. The lab, tests, scripts, caches and the
# developers' pins stay in the repository.
python3 - "$tarball" <<'PY'
import fnmatch
import sys
import tarfile

ALLOWED = [
    "MANIFEST.json", "FILES.json", "README.md", "LICENSE", "CHANGELOG.md", "CHANGELOG.rst", "bindep.txt",
    "changelogs/", "changelogs/changelog.yaml",
    "meta/", "meta/runtime.yml", "meta/execution-environment.yml", "meta/ee-requirements.txt",
    "playbooks/", "playbooks/site.yml",
    "plugins/", "plugins/*.py", "plugins/*.yml", "plugins/*/",
    "roles/", "roles/*/", "roles/*.yml", "roles/*.j2",
    "docs/", "docs/*/", "docs/*.rst", "docs/*.yml", "docs/*.md",
]
REQUIRED = [
    "README.md", "LICENSE", "CHANGELOG.md", "bindep.txt", "changelogs/changelog.yaml", "meta/runtime.yml",
    "meta/execution-environment.yml", "meta/ee-requirements.txt", "playbooks/site.yml",
    "docs/docsite/extra-docs.yml", "plugins/modules/topology.py", "plugins/plugin_utils/fleet.py",
    "roles/macvlan_topology/tasks/main.yml",
    "roles/arp_sysctl/tasks/main.yml",
]
with tarfile.open(sys.argv[1]) as tar:
    names = [m.name + ("/" if m.isdir() else "") for m in tar.getmembers()]
problems = []
for name in names:
    parts = name.rstrip("/").split("/")
    if any(p.startswith(".") or p == "__pycache__" or p.endswith(".pyc") for p in parts):
        problems.append("%s: a hidden file, cache or bytecode" % name)
    elif not any(fnmatch.fnmatchcase(name, pattern) for pattern in ALLOWED):
        problems.append("%s: not in the allowlist" % name)
problems += ["%s: missing" % name for name in REQUIRED if name not in names]
if problems:
    print("the tarball's file list differs from the allowlist (galaxy.yml build_ignore):")
    print("\n".join("  " + p for p in problems))
    sys.exit(1)
print("tarball: %d entries, all in the allowlist, none missing" % len(names))
PY
# No shipped playbook or role reaches outside the collection (the repository's scripts/, ../).
installed=.build/installed/ansible_collections/linuxnet/macvlan
if grep -rnE "scripts/|playbook_dir *~? *['\"]?/\.\.|\.\./" "$installed/playbooks" "$installed/roles"; then
    echo "a shipped playbook or role refers to something outside the collection (above)"
    exit 1
fi
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
# The playbook users run by name, and both roles it applies, from the installed copy.
ansible-playbook -i localhost, linuxnet.macvlan.site --syntax-check > /dev/null \
    || { echo "linuxnet.macvlan.site does not pass --syntax-check from the installed copy"; exit 1; }
roles=$(ansible-doc -t role -l linuxnet.macvlan)
for role in macvlan_topology arp_sysctl; do
    grep -q "linuxnet.macvlan.$role" <<<"$roles" || { echo "the installed copy has no role $role: $roles"; exit 1; }
    ansible-doc -t role "linuxnet.macvlan.$role" | grep -q "ENTRY POINT:.*main" \
        || { echo "ansible-doc -t role linuxnet.macvlan.$role: no entry point main"; exit 1; }
done
echo "linuxnet.macvlan.site passes --syntax-check and both roles resolve from the installed copy"
