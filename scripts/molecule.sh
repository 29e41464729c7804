#!/usr/bin/env bash
# Run the Molecule scenarios (extensions/molecule/<scenario>/molecule.yml): `molecule test -s`
# each (destroy, syntax, create, [prepare,] converge, idempotence, verify, destroy), several
# at once, each under a time limit, and report each one's outcome and runtime. Their guests
# are User-mode Linux guests inside network namespaces lnmol-<scenario> (see
# scripts/molecule/lab.py): after each scenario the runner makes sure nothing of it is left
# (a scenario killed at its time limit is destroyed here), and fails if something was.
#
# usage: scripts/molecule.sh [--timeout SECS] [--jobs N] [--keep-logs DIR] [SCENARIO...]
#   SCENARIO...     default: every scenario (--all)
#   --timeout SECS  per scenario (default 1200)
#   --jobs N        scenarios run at once (default 3)
#   --keep-logs DIR write each scenario's log to DIR/<scenario>.log (default: a temporary
#                   directory, removed; a failed scenario's log tail is printed either way)
# Needs root, scripts/bootstrap.sh run first (molecule, sshd, user-mode-linux).
#
# The whole run happens in a mount namespace of its own with a private /run: the labs' network
# namespaces are registered there, never in the machine's /run/netns, and vanish with the run.
set -uo pipefail
if [ -z "${LNMOL_PRIVATE_RUN:-}" ]; then
    # shellcheck disable=SC2016  # expanded by the inner shell
    exec unshare --mount --propagation private env LNMOL_PRIVATE_RUN=1 sh -c \
        'mount -t tmpfs -o mode=755 lnmol /run && mkdir -p /run/netns /run/lock && exec "$@"' sh "$0" "$@"
fi
cd "$(dirname "$0")/.." || exit 2
top=$PWD
limit=1200
jobs=3
keep=
scenarios=()
usage() {
    sed -n '/^# usage:/,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0" >&2
    exit "${1:-2}"
}
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) limit=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --keep-logs) keep=$2; shift 2 ;;
        --all) shift ;;
        -h | --help) usage 0 ;;
        -*) echo "molecule.sh: unknown option $1" >&2; usage ;;
        *) scenarios+=("$1"); shift ;;
    esac
done
if [ ${#scenarios[@]} -eq 0 ]; then
    for file in extensions/molecule/*/molecule.yml; do
        dir=${file%/molecule.yml}
        scenarios+=("${dir##*/}")
    done
fi
for s in "${scenarios[@]}"; do
    [ -f "extensions/molecule/$s/molecule.yml" ] || { echo "molecule.sh: no scenario $s" >&2; exit 2; }
done
export PATH="$top/.venv/bin:$PATH" NO_COLOR=1 ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
command -v molecule > /dev/null || { echo "molecule.sh: molecule missing (scripts/bootstrap.sh)" >&2; exit 2; }
if [ -n "$keep" ]; then
    mkdir -p "$keep" && logs=$(cd "$keep" && pwd) || exit 2
else
    logs=$(mktemp -d "${TMPDIR:-/tmp}/lnmol-logs.XXXXXX") || exit 2
fi
declare -A pids=()
cleanup() {
    local s
    for s in "${!pids[@]}"; do
        # the scenario's `timeout`, which passes TERM on to molecule
        [ -s "$logs/$s.pid" ] && kill -TERM "$(cat "$logs/$s.pid")" 2> /dev/null
    done
    wait
    for s in "${scenarios[@]}"; do
        leftovers "$s" > /dev/null 2>&1
    done
    [ -n "$keep" ] || rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The scenario's network namespace (lnmol_lab.netns in its inventory).
netns_of() {
    sed -n 's/^ *netns: *\(lnmol[A-Za-z0-9_.-]*\).*/\1/p' "extensions/molecule/$1/inventory/group_vars/lnmol_guests.yml" 2> /dev/null | head -1
}
# Remove what a scenario left (guests, namespace, run directory) and say so: 0 if nothing was.
leftovers() {
    local ns run=$logs/$1.eph/lab left=0
    ns=$(netns_of "$1")
    if { [ -n "$ns" ] && [ -e "/run/netns/$ns" ]; } || [ -e "$run" ]; then
        echo "molecule.sh: $1 left ${ns:+network namespace $ns, }$run behind; removing them" >&2
        python "$top/scripts/molecule/lab.py" down "$run" ${ns:+--netns "$ns"} >&2
        left=1
    fi
    return $left
}

# One scenario: molecule test under the time limit, with an ephemeral directory of its own
# (a fresh temporary one per run: SSH keys, disks, logs); when it is killed, destroy it here.
run_one() {
    local s=$1 log=$logs/$1.log rc start
    start=$(date +%s)
    export MOLECULE_EPHEMERAL_DIRECTORY=$logs/$s.eph
    timeout -k 30 "$limit" molecule test -s "$s" > "$log" 2>&1 &
    echo $! > "$logs/$s.pid"
    wait $!
    rc=$?
    if [ $rc -eq 124 ] || [ $rc -eq 137 ] || [ $rc -eq 143 ]; then
        echo "=== molecule.sh: stopped after $(( $(date +%s) - start ))s (limit ${limit}s); molecule destroy -s $s" >> "$log"
        timeout -k 30 600 molecule destroy -s "$s" >> "$log" 2>&1
    fi
    if ! leftovers "$s" >> "$log" 2>&1; then
        [ $rc -eq 0 ] && rc=3
    fi
    echo "$rc $(( $(date +%s) - start ))" > "$logs/$s.result"
    return $rc
}

start_all=$(date +%s)
queue=("${scenarios[@]}")
running=0
# A lab left by an earlier, killed run would make `create` fail: remove it first.
for s in "${scenarios[@]}"; do
    ns=$(netns_of "$s")
    if [ -n "$ns" ] && [ -e "/run/netns/$ns" ]; then
        echo "molecule.sh: removing network namespace $ns, left by an earlier run"
        python "$top/scripts/molecule/lab.py" down --netns "$ns"
    fi
done
while [ ${#queue[@]} -gt 0 ] || [ $running -gt 0 ]; do
    while [ ${#queue[@]} -gt 0 ] && [ $running -lt "$jobs" ]; do
        s=${queue[0]}
        queue=("${queue[@]:1}")
        echo "molecule.sh: $s started"
        run_one "$s" &
        pids[$s]=$!
        running=$((running + 1))
    done
    wait -n
    running=0
    for s in "${!pids[@]}"; do
        if kill -0 "${pids[$s]}" 2> /dev/null; then
            running=$((running + 1))
        else
            wait "${pids[$s]}" 2> /dev/null
            unset "pids[$s]"
            read -r rc secs < "$logs/$s.result"
            if [ "$rc" = 0 ]; then
                echo "molecule.sh: $s passed (${secs}s)"
            else
                echo "molecule.sh: $s FAILED (exit $rc, ${secs}s); last lines of its log:"
                tail -n 150 "$logs/$s.log" | sed "s/^/  $s| /"
            fi
        fi
    done
done

# Per step (create, converge, ...): the time its playbook took (ansible.posix.timer).
steps_of() {
    awk '/\] Executing/ && match($0, /> [a-z_]+\]/) { step = substr($0, RSTART + 2, RLENGTH - 3) }
         /Playbook run took/ {
             line = $0; gsub(/[^0-9]+/, " ", line); k = split(line, t, " ")
             n = 0; for (i = 1; i <= k; i++) if (t[i] != "") v[++n] = t[i]
             secs = v[n - 3] * 86400 + v[n - 2] * 3600 + v[n - 1] * 60 + v[n]
             out = out sprintf("%s%s %ds", out == "" ? "" : ", ", step, secs); delete v
         }
         END { print out }' "$1"
}
passed=0
failed=0
echo
echo "=== Molecule scenarios (up to ${jobs} at once, limit ${limit}s each)"
for s in "${scenarios[@]}"; do
    read -r rc secs < "$logs/$s.result"
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1))
        printf '  %-10s passed  %4ss  (%s)\n' "$s" "$secs" "$(steps_of "$logs/$s.log")"
    else
        failed=$((failed + 1))
        printf '  %-10s FAILED  %4ss (exit %s; %s)\n' "$s" "$secs" "$rc" "$(steps_of "$logs/$s.log")"
    fi
done
echo "  all: $(( $(date +%s) - start_all ))s"
echo "molecule: $passed passed, $failed failed"
[ $failed -eq 0 ]
