#!/usr/bin/env bash
# The lab, the README's main job: every scenario of the user guide built on this machine in a
# sandbox of emulated hosts and switch namespaces (playbooks/lab.yml, inventory
# playbooks/inventory/lab.yml) and checked against the documented behaviour
# (playbooks/verify.yml: the connectivity matrix).
#   scripts/lab.sh [up]    build or converge the lab, then print the matrix (fails on a mismatch)
#   scripts/lab.sh check   the plan (--check --diff); changes nothing
#   scripts/lab.sh verify  the matrix only
#   scripts/lab.sh down    remove everything the lab built
# Further arguments go to ansible-playbook (-v, --limit host_access_shim, -e ...).
# Hosts whose layout needs VLANs (inventory group needs_8021q: vepa_hairpin) are built
# on this machine's kernel like the others when it has 8021q (scripts/lab/has-8021q), as on a
# real machine; on a kernel without it they run in the User-mode Linux lane (scripts/uml/uml-run, a
# throw-away guest whose kernel, scripts/uml/kernel, has 8021q), at the same time as the
# others: there the lab is built and checked, and gone with the guest, so `verify` and `down`
# have nothing to do for them. Without a usable guest kernel they are left out, saying why in
# one line, and the run fails after the other hosts have run and reported.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export ANSIBLE_CONFIG="$PWD/ansible.cfg" ANSIBLE_PIPELINING="${ANSIBLE_PIPELINING:-1}" \
       ANSIBLE_FORKS="${ANSIBLE_FORKS:-10}"
bin="$PWD/.venv/bin"
action=${1:-up}
[ $# -gt 0 ] && shift

case $action in
    up) plays=(playbooks/lab.yml playbooks/verify.yml) ;;
    check) plays=(playbooks/lab.yml --check --diff) ;;
    verify) plays=(playbooks/verify.yml) ;;
    down) plays=(playbooks/lab.yml -e lab_state=absent) ;;
    *) echo "usage: $0 [up|check|verify|down] [ansible-playbook options...]" >&2; exit 2 ;;
esac

# A --limit of the caller's is combined with each lane's own.
limit=all
args=()
while [ $# -gt 0 ]; do
    case $1 in
        -l|--limit) limit=$2; shift 2 ;;
        --limit=*) limit=${1#--limit=}; shift ;;
        -l?*) limit=${1#-l}; shift ;;
        *) args+=("$1"); shift ;;
    esac
done
hosts_in() {
    local count
    count=$("$bin/ansible" all --list-hosts --limit "$1" 2>/dev/null | sed -n 's/^ *hosts (\([0-9]*\)):.*/\1/p')
    echo "${count:-0}"
}

if scripts/lab/has-8021q >/dev/null; then
    host_limit=$limit
    lane=false
else
    host_limit="$limit:!needs_8021q"
    lane_limit="$limit:&needs_8021q"
    lane=false
    if [ "$(hosts_in "$lane_limit")" != 0 ]; then
        case $action in
            up|check) lane=true ;;
            *) echo "lab: this kernel lacks 8021q; the needs_8021q hosts exist only in the User-mode Linux lane" \
                    "during 'up' and 'check': nothing to do for them here" ;;
        esac
    fi
fi

start=$(date +%s)
no_lane=
if $lane && ! no_lane=$(scripts/uml/kernel 2>&1 >/dev/null); then
    # No guest to be had: the hosts on this kernel still run and report; the run fails, saying why.
    lane=false
    no_lane=${no_lane:-uml: no usable User-mode Linux kernel}
    echo "lab: this kernel lacks 8021q and $no_lane: the needs_8021q hosts are left out"
fi
if $lane; then
    lane_log=$(mktemp /tmp/lab-uml.XXXXXX)
    trap 'rm -f "$lane_log"' EXIT
    echo "lab: this kernel lacks 8021q: the needs_8021q hosts run in the User-mode Linux lane meanwhile" \
        "(its output follows when it is done)"
    # a loaded guest answers slowly: pings get 5 s there (PROBE_DEADLINE, playbooks/verify.yml)
    PROBE_DEADLINE=${PROBE_DEADLINE:-5} scripts/uml/uml-run --timeout 1200 -- "$bin/ansible-playbook" "${plays[@]}" --limit "$lane_limit" \
        "${args[@]}" >"$lane_log" 2>&1 &
    lane_pid=$!
fi

status=0
if [ "$(hosts_in "$host_limit")" != 0 ]; then
    "$bin/ansible-playbook" "${plays[@]}" --limit "$host_limit" "${args[@]}" || status=1
fi

if $lane; then
    wait "$lane_pid" || status=1
    echo
    echo "=== User-mode Linux lane (a kernel with 8021q): the needs_8021q hosts"
    cat "$lane_log"
fi
if [ -n "$no_lane" ]; then
    echo
    echo "lab: the needs_8021q hosts did not run: $no_lane"
    status=1
fi
result=ok
[ "$status" -eq 0 ] || result=FAILED
echo "lab: $action $result in $(( $(date +%s) - start ))s"
exit "$status"
