#!/usr/bin/env bash
# The compatibility matrix (README "Compatibility"): each row in a virtualenv of its own under
# .build/compat/, created once and reused while its pins are unchanged (CI keeps .build/).
#
#   scripts/compat.sh [--all] [--sanity ROWS] [--sanity-tests TESTS] [ROW...]
#
#   Without ROWs: the rows CI runs (README "Compatibility": what and why); --all: every row.
#
#   core-2.16 ... core-2.21  ansible-core (newest patch of that minor): unit tests, a playbook
#                            smoke run (tests/compat/smoke.yml), and ansible-test sanity when the
#                            row is listed in --sanity (default: "core-2.16 core-2.21", the floor
#                            and the newest; scripts/sanity.sh runs the full sanity on the pinned
#                            2.19), with the tests whose verdict depends on the ansible-core version
#                            (--sanity-tests, default $SANITY_TESTS below; "all" for every test)
#   python-floor             the managed-node Python floor: vermin over plugins/ (statically, the
#                            declared 3.8) and the smoke run with Python 3.9 as the managed node's
#                            interpreter (the oldest that can be had here) with pyroute2 0.7.2
#   pyroute2-0.7.2 ...       the codec tests and the integration subset (PYROUTE2_TESTS) against that pyroute2
#
# Interpreters this machine lacks come from Debian's archive, the way scripts/uml/kernel gets its
# kernel (apt-get download with a private sources list, nothing installed system-wide): Python
# 3.13 from Debian 13 for ansible-core >= 2.20 (their controller needs >= 3.12; Debian 12 has
# 3.11), with Debian 13's libc6 as its interpreter (patchelf); Python 3.9 from Debian 11.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$PWD
base=$top/.build/compat
mirror=${LINUXNET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
export ANSIBLE_NOCOLOR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

# The rows: name -> what the venv holds.
declare -A CORE=([2.16]=2.16.19 [2.17]=2.17.14 [2.18]=2.18.19 [2.19]=2.19.14 [2.20]=2.20.10 [2.21]=2.21.5)
CORE_ROWS="core-2.16 core-2.17 core-2.18 core-2.19 core-2.20 core-2.21"
PYROUTE2_ROWS="pyroute2-0.7.2 pyroute2-0.7.12 pyroute2-0.8.1 pyroute2-0.9.7"
# What each pyroute2 row runs. The engine encodes netlink itself and only looks pyroute2 up (the
# declared library must be installed): the codec tests check the engine's requests and its reading
# of dumps against that pyroute2's own decoder and encoder; the integration subset (every module's
# cases, connectivity, ownership; not the playbook/lab/reboot tests, which test Ansible and the
# roles) runs the modules with that pyroute2 installed. The VLAN cases need 8021q: they run in the
# User-mode Linux lane, as in scripts/test.sh.
PYROUTE2_TESTS=${PYROUTE2_TESTS:-"tests/unit/test_codec.py
 tests/integration/test_macvlan_link.py tests/integration/test_netns.py
 tests/integration/test_topology.py tests/integration/test_bridge.py tests/integration/test_connectivity.py
 tests/integration/test_link_routes.py tests/integration/test_ownership.py"}
PYROUTE2_UML_TESTS=${PYROUTE2_UML_TESTS:-"tests/integration/test_vlan_link.py"}
SANITY_ROWS="core-2.16 core-2.21"
# What ansible-core itself checks differently from one version to the next: the module and plugin
# docs' schema and argument specs, their rendering, meta/runtime.yml, byte-compiling and importing
# the plugins on its supported Pythons, the changelog. (Style checks - pylint, pep8, shellcheck,
# yamllint - depend on the tools' versions, not ansible-core's: scripts/sanity.sh runs them.)
SANITY_TESTS="validate-modules ansible-doc runtime-metadata compile import action-plugin-docs changelog"
# CI's rows: every ansible-core line (units + smoke; 2.19.14 is the main .venv, which the whole
# suite tests), the managed-node floor, pyroute2's floor and the last of each older line (0.9.7 is
# the main .venv's, which the whole suite tests).
CI_ROWS=${COMPAT_CI_ROWS:-"pyroute2-0.7.2 pyroute2-0.7.12 pyroute2-0.8.1 core-2.16 core-2.21 core-2.17 core-2.18 core-2.20 python-floor"}
pin() { grep -m1 "^$1==" requirements.txt; }

say() { echo "compat: $*"; }
# pip's notes about local mirror locations that do not exist on this machine are noise here.
quiet() { grep -v '^WARNING: Location .* is ignored' || true; }

# ---- interpreters from Debian's archive ----
apt_opts=(-o "Dir::Etc::sourcelist=$base/apt/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$base/apt/lists" -o "Dir::Cache=$base/apt/cache"
    -o Dir::Etc::preferences=/dev/null -o Dir::Etc::preferencesparts=- -q)
# interpreter VERSION: print the path of a working pythonVERSION (3.11: the system's).
interpreter() {
    local ver=$1 dir=$base/python/$1
    if [ "$ver" = 3.11 ]; then command -v python3.11; return; fi
    # 3.13 also gets ensurepip (Debian's python3.13-venv), which ansible-test's tool virtualenvs need.
    local check='import ctypes, ssl, zlib'
    [ "$ver" = 3.9 ] || check="$check, ensurepip; ensurepip.version()"
    if [ -x "$dir/usr/bin/python$ver" ] && "$dir/usr/bin/python$ver" -c "$check" > /dev/null 2>&1; then
        echo "$dir/usr/bin/python$ver"
        return 0
    fi
    local suite pkgs
    case $ver in
        3.13) suite=trixie
              pkgs="python3.13-minimal libpython3.13-minimal libpython3.13-stdlib libc6 libssl3t64 libexpat1
                    zlib1g libffi8 libbz2-1.0 liblzma5 libsqlite3-0 libncursesw6 libtinfo6 libreadline8t64
                    libuuid1 libmpdec4 libzstd1 python3.13-venv python3-pip-whl python3-setuptools-whl" ;;
        3.9) suite=bullseye
             pkgs="python3.9-minimal libpython3.9-minimal libpython3.9-stdlib libffi7 libssl1.1 libmpdec3" ;;
        *) echo "compat: no recipe for Python $ver" >&2; return 1 ;;
    esac
    command -v patchelf > /dev/null || { echo "compat: patchelf missing (scripts/bootstrap.sh installs it)" >&2; return 1; }
    mkdir -p "$base/apt/lists/partial" "$base/apt/cache/archives/partial" "$base/debs-$ver"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' "$mirror" trixie "$mirror" bullseye \
        > "$base/apt/sources.list"
    local p list=()
    for p in $pkgs; do list+=("$p/$suite"); done
    # Lists kept from an earlier run are tried first; stale ones (a package superseded) are read again.
    if ! { compgen -G "$base/apt/lists/*_Packages*" > /dev/null &&
           (cd "$base/debs-$ver" && apt-get "${apt_opts[@]}" download "${list[@]}") > "$base/apt/download-$ver.log" 2>&1; }; then
        apt-get "${apt_opts[@]}" update > "$base/apt/update.log" 2>&1 \
            || { echo "compat: apt-get update of the private lists failed (see $base/apt/update.log)" >&2; return 1; }
        (cd "$base/debs-$ver" && apt-get "${apt_opts[@]}" download "${list[@]}") > "$base/apt/download-$ver.log" 2>&1 \
            || { echo "compat: apt-get download failed (see $base/apt/download-$ver.log)" >&2; return 1; }
    fi
    rm -rf "$dir" && mkdir -p "$dir"
    for p in "$base/debs-$ver"/*.deb; do dpkg-deb -x "$p" "$dir" || return 1; done
    rm -rf "$base/debs-$ver"
    local lib=$dir/usr/lib/x86_64-linux-gnu f
    # Every extension module and private library finds its libraries in the private copy first.
    while IFS= read -r f; do
        patchelf --set-rpath "$lib" "$f" 2> /dev/null || true
    done < <(find "$dir" -name '*.so*' -type f ! -name 'ld-linux*' ! -name 'libc.so*')
    # Debian's ensurepip takes its wheels from /usr/share/python-wheels: here, the private copy's.
    [ ! -f "$dir/usr/lib/python$ver/ensurepip/__init__.py" ] \
        || sed -i "s|sysconfig.get_config_var('WHEEL_PKG_DIR')|'$dir/usr/share/python-wheels'|" \
            "$dir/usr/lib/python$ver/ensurepip/__init__.py"
    if [ "$ver" = 3.13 ]; then   # needs glibc >= 2.38: Debian 13's libc6 is its interpreter
        patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --set-rpath "$lib" "$dir/usr/bin/python$ver" || return 1
    else
        patchelf --set-rpath "$lib" "$dir/usr/bin/python$ver" || return 1
    fi
    "$dir/usr/bin/python$ver" -c "$check" > /dev/null || { echo "compat: Python $ver from Debian does not run" >&2; return 1; }
    echo "$dir/usr/bin/python$ver"
}

# venv NAME PYVER PACKAGES...: a virtualenv with exactly these pins, reused while they match.
venv() {
    local pyver=$2 dir=$base/$1 py
    shift 2
    local spec="python$pyver $*"
    if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/compat-spec" 2> /dev/null)" = "$spec" ]; then
        return 0
    fi
    py=$(interpreter "$pyver") || return 1
    rm -rf "$dir"
    "$py" -m venv --without-pip "$dir" || return 1
    if [ "$pyver" = 3.9 ]; then
        # The managed node's interpreter (Debian 11's, without distutils, which pip needs): its
        # packages, pure-Python wheels, are put in place by the main venv's pip.
        "$top/.venv/bin/pip" install -q --target "$dir/lib/python$pyver/site-packages" --python-version "$pyver" \
            --only-binary=:all: "$@" 2>&1 | quiet
        [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    else
        # Debian's interpreters come without ensurepip: the main venv's pip installs pip there.
        "$top/.venv/bin/pip" --python "$dir/bin/python" install -q pip 2>&1 | quiet
        [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
        "$dir/bin/python" -m pip install -q "$@" 2>&1 | quiet
        [ "${PIPESTATUS[0]}" -eq 0 ] || return 1
    fi
    echo "$spec" > "$dir/compat-spec"
}

# smoke PYTHON [MANAGED_PYTHON]: tests/compat/smoke.yml with that ansible-core, in a network and
# mount namespace of its own (own /run, so /run/netns and the lock are private).
smoke() {
    local bin=$1 managed=${2:-$1}
    # shellcheck disable=SC2016  # expanded by the inner shell
    unshare --net --mount --propagation private sh -c \
        'mount -t tmpfs -o mode=755 compat /run && mkdir -p /run/netns /run/lock && ip link set lo up &&
         exec "$1" -i localhost, -c local -e ansible_python_interpreter="$2" "$3"' \
        smoke "$(dirname "$bin")/ansible-playbook" "$managed" "$top/tests/compat/smoke.yml"
}

# sanity ROWDIR: ansible-test sanity of that venv's ansible-core on a copy of the collection.
sanity() {
    local dir=$1 work=$1/sanity/ansible_collections/linuxnet/macvlan pyver pip_version
    pyver=$("$dir/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    pip_version=$(grep -ohP "pip='\K[0-9.]+" "$dir"/lib/python*/site-packages/ansible_test/_internal/python_requirements.py | head -1)
    # ansible-test keeps its tool virtualenvs under ~/.ansible/test, keyed by Python version, not by
    # interpreter: each row gets a home of its own, so none points at another checkout's interpreter.
    local home=$dir/home
    mkdir -p "$home/.ansible/test/cache"
    [ -z "$pip_version" ] || cp scripts/get-pip-offline.py "$home/.ansible/test/cache/get_pip_${pip_version//./_}.py"
    rm -rf "$dir/sanity" && mkdir -p "$work"
    git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$work"/
    local tests=()
    if [ "$SANITY_TESTS" != all ]; then
        local t
        for t in $SANITY_TESTS; do tests+=(--test "$t"); done
    fi
    (cd "$work" && git init -q . && git add -A > /dev/null &&
     HOME=$home PATH="$dir/bin:$PATH" ansible-test sanity --requirements --python "$pyver" --color no "${tests[@]}")
}

run_row() {
    local row=$1 start rc=0 dir=$base/$1
    start=$(date +%s)
    say "=== $row"
    case $row in
        core-*)
            local minor=${row#core-} pyver=3.11
            case $minor in 2.2*) pyver=3.13 ;; esac
            venv "$row" "$pyver" "ansible-core==${CORE[$minor]}" "$(pin pytest)" "$(pin hypothesis)" \
                "$(pin pyroute2)" || { verdict "$row" "venv-failed" "$start"; return 1; }
            "$dir/bin/ansible" --version | sed -n 1p
            PATH="$dir/bin:$PATH" "$dir/bin/python" -m pytest tests/unit -q -p no:cacheprovider | tail -1
            [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
            ANSIBLE_CONFIG=$top/ansible.cfg smoke "$dir/bin/python" > "$dir/smoke.log" 2>&1 \
                || { rc=1; tail -30 "$dir/smoke.log"; }
            grep -A3 '^PLAY RECAP' "$dir/smoke.log" | tail -2
            if [[ " $SANITY_ROWS " == *" $row "* ]]; then
                sanity "$dir" > "$dir/sanity.log" 2>&1 || { rc=1; tail -30 "$dir/sanity.log"; }
                tail -1 "$dir/sanity.log"
            fi
            ;;
        python-floor)
            # os.setns is used only when present (3.12+), with a ctypes fallback.
            "$top/.venv/bin/vermin" --no-tips --violations --eval-annotations -t=3.8- --exclude os.setns plugins/ \
                || { echo "vermin: plugins/ need a newer Python than the declared 3.8"; rc=1; }
            venv managed-3.9 3.9 "pyroute2==0.7.2" || { verdict "$row" "venv-failed" "$start"; return 1; }
            "$base/managed-3.9/bin/python" --version
            ANSIBLE_CONFIG=$top/ansible.cfg smoke "$top/.venv/bin/python" "$base/managed-3.9/bin/python" \
                > "$base/managed-3.9/smoke.log" 2>&1 || { rc=1; tail -30 "$base/managed-3.9/smoke.log"; }
            grep -A3 '^PLAY RECAP' "$base/managed-3.9/smoke.log" | tail -2
            ;;
        pyroute2-*)
            venv "$row" 3.11 "$(pin ansible-core)" "$(pin pytest)" "$(pin hypothesis)" "pyroute2==${row#pyroute2-}" \
                || { verdict "$row" "venv-failed" "$start"; return 1; }
            # shellcheck disable=SC2086  # a list of paths
            PATH="$dir/bin:$PATH" LINUXNET_LANE=routed "$dir/bin/python" -m pytest $PYROUTE2_TESTS -q -p no:cacheprovider \
                > "$dir/pytest.log" 2>&1 || { rc=1; tail -40 "$dir/pytest.log"; }
            tail -1 "$dir/pytest.log"
            # shellcheck disable=SC2086  # a list of paths
            PATH="$dir/bin:$PATH" LINUXNET_LANE=uml PYTHONUNBUFFERED=1 scripts/uml/uml-run --timeout 900 -- \
                "$dir/bin/python" -m pytest $PYROUTE2_UML_TESTS -q -p no:cacheprovider > "$dir/uml.log" 2>&1 \
                || { rc=1; tail -40 "$dir/uml.log"; }
            echo "User-mode Linux lane: $(tail -1 "$dir/uml.log")"
            ;;
        *) echo "compat: unknown row $row"; return 2 ;;
    esac
    verdict "$row" "$([ $rc -eq 0 ] && echo passed || echo FAILED)" "$start"
    return $rc
}

# verdict ROW RESULT START: what the summary prints for the row.
verdict() {
    echo "$2 $(( $(date +%s) - $3 ))" > "$base/.rows/$1.verdict"
}

rows=()
while [ $# -gt 0 ]; do
    case $1 in
        --sanity) SANITY_ROWS=$2; shift 2 ;;
        --sanity-tests) SANITY_TESTS=$2; shift 2 ;;
        --all) read -ra all_rows <<< "$CORE_ROWS python-floor $PYROUTE2_ROWS"; rows+=("${all_rows[@]}"); shift ;;
        *) rows+=("$1"); shift ;;
    esac
done
# shellcheck disable=SC2206  # word lists
[ ${#rows[@]} -gt 0 ] || rows=($CI_ROWS)
[ "$SANITY_ROWS" != all ] || SANITY_ROWS=$CORE_ROWS
# Rows run JOBS at a time (default 1). Two rows at once would save ~3 minutes, but two pyroute2
# rows' integration tests at once collide: a macvtap's /dev/tapN is named after its ifindex, and
# /dev is one for all namespaces, so two sandboxes' macvtaps can claim the same node.
jobs=${COMPAT_JOBS:-1}
rm -rf "$base/.rows" && mkdir -p "$base/.rows"
# Interpreters from Debian's archive first, once (rows in parallel would fetch them twice).
need=" ${rows[*]} "
if [[ $need == *" core-2.2"* ]]; then interpreter 3.13 > /dev/null || exit 1; fi
if [[ $need == *" python-floor "* ]]; then interpreter 3.9 > /dev/null || exit 1; fi
TIMEFORMAT="%U %S"
for row in "${rows[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    say "started $row"
    # The CPU time of the row (its processes included): what it costs on an otherwise idle
    # machine, whatever else shares this one.
    ( { time run_row "$row" > "$base/.rows/$row.log" 2>&1; } 2> "$base/.rows/$row.time"
      say "finished $row: $(cut -d' ' -f1 "$base/.rows/$row.verdict" 2> /dev/null)" ) &
done
wait
status=0
for row in "${rows[@]}"; do
    echo
    cat "$base/.rows/$row.log"
done
echo
echo "compatibility matrix ($jobs rows at a time; wall time, CPU time):"
for row in "${rows[@]}"; do
    read -r result wall < "$base/.rows/$row.verdict" 2> /dev/null || { result="not-run"; wall="?"; }
    cpu=$(awk '{ printf "%d", $1 + $2 }' "$base/.rows/$row.time" 2> /dev/null)
    [ "$result" = passed ] || status=1
    printf '  %-16s %-12s %5ss %5ss\n' "$row" "$result" "$wall" "${cpu:-?}"
done
exit $status
