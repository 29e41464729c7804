#!/bin/sh
# PID 1 of the User-mode Linux guest booted by scripts/uml/uml-boot: a guest that boots
# systemd for real and keeps its writes across reboots.
#
# The root is the host's under an overlay kept on a persistent disk (ubd0, formatted by the
# runner; see systemd-root.sh, shared with the Molecule guests' init). Each boot this script
# counts the boot, (re)writes the harness's own units and masks into the overlay, mounts the
# host directories named on the kernel command line read-write at the same paths, pivots
# into the overlay and execs systemd.
#
# Kernel command line keys (key=value words become init's environment):
#   UML_BOOT_STEPS=DIR    host dir, read-write: boot-N.sh in, boot-N.log / boot-N.rc out
#   UML_BOOT_LANE=DIR     host dir, read-write: the runner's timeline and journals
#   UML_BOOT_RW=A:B       more host dirs mounted read-write (optional)
#   UML_BOOT_AFTER=U1,U2  units the step is also ordered after (optional)
#
# Run with --step (by the unit uml-boot-step.service that this script installs), it is the
# step runner instead: see run_step below.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
self=$0
die() {
    echo "uml-boot init: $*" >&2
    poweroff -f
    echo o > /proc/sysrq-trigger
    sleep 10
}
# The host's clock (UML reads it), for the runner's per-boot timings.
stamp() { echo "$1 $(date +%s.%N) $(cut -d' ' -f1 /proc/uptime) ${2:-}" >> "$UML_BOOT_LANE/timeline"; }

# The step: run $UML_BOOT_STEPS/boot-N.sh for this boot N, record its output and exit
# status. The script decides to `systemctl reboot` or `systemctl poweroff`; when it fails or
# decides neither, the guest is powered off here (the runner then reports it).
run_step() {
    steps=$1
    UML_BOOT_LANE=$2
    n=$(cat /run/uml-boot/boot) || exit 1
    log=$steps/boot-$n.log
    script=$steps/boot-$n.sh
    # The barrier: wait until the boot is finished, i.e. every job of the boot transaction
    # is done, including units that multi-user.target wants but is not ordered after
    # (DefaultDependencies=no, like linuxnet-macvlan.service). Type=exec lets this unit's
    # own job finish at once, so the wait cannot wait for itself; afterwards systemd-analyze
    # works and is-system-running says running (or degraded).
    systemctl is-system-running --wait > /dev/null
    stamp "boot $n step-start"
    systemd-analyze time 2>&1 | sed "s/^/boot $n: /" >> "$UML_BOOT_LANE/analyze"
    prev=$steps/boot-$((n - 1)).rc
    if [ -s "$prev" ] && [ "$(cat "$prev")" != 0 ]; then
        # A failed step that had already asked for a reboot: stop the lane here.
        echo "uml-boot: boot $((n - 1)) failed; not running $script" > "$log"
        rc=125
    elif [ ! -f "$script" ]; then
        echo "uml-boot: no $script for boot $n" > "$log"
        rc=127
    else
        # systemd stops this unit when the script asks for a reboot (KillMode=mixed: the
        # TERM reaches only this shell): keep waiting for the script, to record its status.
        term=0
        trap 'term=1' TERM
        if [ -x "$script" ]; then
            UML_BOOT_N=$n "$script" < /dev/null > "$log" 2>&1 &
        else
            UML_BOOT_N=$n /bin/bash "$script" < /dev/null > "$log" 2>&1 &
        fi
        pid=$!
        while :; do
            term=0
            wait "$pid"
            rc=$?
            [ "$term" = 1 ] || break
        done
    fi
    echo "$rc" > "$steps/boot-$n.rc.tmp" && mv "$steps/boot-$n.rc.tmp" "$steps/boot-$n.rc"
    stamp "boot $n step-end" "$rc"
    echo "uml-boot: boot $n: step exited $rc"
    if [ "$rc" != 0 ]; then
        journalctl -b --no-pager --no-hostname -o short-monotonic > "$UML_BOOT_LANE/boot-$n.journal" 2>&1
        systemctl --no-block poweroff
    elif [ "$(systemctl is-system-running)" != stopping ]; then
        echo "uml-boot: boot $n: the step neither rebooted nor powered off; powering off"
        systemctl --no-block poweroff
    fi
    sync
    exit 0
}
if [ "${1:-}" = --step ]; then
    run_step "$2" "$3"
fi

if [ -z "${UML_BOOT_STEPS:-}" ] || [ -z "${UML_BOOT_LANE:-}" ]; then
    die "UML_BOOT_STEPS and UML_BOOT_LANE must be on the kernel command line"
fi
# shellcheck source=scripts/uml/systemd-root.sh
. "$(dirname "$self")/systemd-root.sh"
root_overlay

# --- The guest's configuration, written into the overlay (never the host) every boot ---
guest_config uml-boot
after=multi-user.target
for unit in $(echo "${UML_BOOT_AFTER:-}" | tr , ' '); do
    after="$after $unit"
done
# DefaultDependencies=no: wanted by multi-user.target yet ordered after it (as
# systemd-update-utmp-runlevel.service); run_step then waits for the end of the boot.
# Conflicts=shutdown.target: stopped (TERM to the shell only) when the step reboots.
cat > "$sd/uml-boot-step.service" << EOF
[Unit]
Description=uml-boot lane step (boot-N.sh of $UML_BOOT_STEPS)
DefaultDependencies=no
Requires=sysinit.target
After=sysinit.target basic.target $after
Conflicts=shutdown.target
Before=shutdown.target
# A step that cannot even start (a path the guest cannot see) must not leave the guest up.
FailureAction=poweroff
RequiresMountsFor=$UML_BOOT_STEPS $UML_BOOT_LANE

[Service]
Type=exec
ExecStart=/bin/sh "$self" --step "$UML_BOOT_STEPS" "$UML_BOOT_LANE"
Environment=HOME=/root
StandardOutput=journal+console
KillMode=mixed
TimeoutStartSec=infinity
TimeoutStopSec=600
EOF
ln -sfn ../uml-boot-step.service "$sd/multi-user.target.wants/uml-boot-step.service"

new_root_mounts
mkdir -p "$new/run/uml-boot"
echo "$n" > "$new/run/uml-boot/boot"
# The steps and lane dirs are synchronous: a step's log reaches the host as it is written,
# even when the runner has to kill a hung guest.
for path in "$UML_BOOT_STEPS" "$UML_BOOT_LANE"; do
    mkdir -p "$new$path"
    mount -t hostfs -o "sync,$path" hostfs "$new$path" || die "mount $path"
done
for path in $(echo "${UML_BOOT_RW:-}" | tr : ' '); do
    mkdir -p "$new$path"
    mount -t hostfs -o "$path" hostfs "$new$path" || die "mount $path"
done
UML_BOOT_LANE=$new$UML_BOOT_LANE stamp "boot $n init"
enter_systemd
