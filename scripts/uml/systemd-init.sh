#!/bin/sh
# PID 1 of the User-mode Linux guest booted by scripts/uml/uml-boot: a guest that boots
# systemd for real and keeps its writes across reboots.
#
# The root is the host's, read-only through hostfs, under an overlay whose upper/work
# dirs live on a persistent ext4 disk (ubd0 = /dev/ubda, formatted by the runner), so
# whatever the guest writes (/etc, /usr/local, /var ...) comes back after a reboot while
# the host's files are never touched. Each boot this script counts the boot on the disk,
# (re)writes the harness's own units and masks into the overlay, mounts the host
# directories named on the kernel command line read-write at the same paths, pivots into
# the overlay and execs systemd. UML re-executes the same kernel command line on reboot,
# so every boot passes through here.
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
mount -t proc proc /proc || die "mount /proc"
mount -t tmpfs -o mode=755 tmpfs /run || die "mount /run"
# Debian's UML kernel runs /sbin/hotplug for every uevent (CONFIG_UEVENT_HELPER_PATH); real
# Debian kernels run none. Each run forks a process: slow udev coldplug, and at shutdown
# systemd-shutdown waits ~10 s for such a helper mistaken for a leftover process.
echo > /proc/sys/kernel/hotplug
# The host may have no /lib/modules: give modprobe a root of its own for the UML modules.
mkdir -p /run/modroot/lib/modules /run/dev /run/disk /run/root
mount --bind /usr/lib/uml/modules /run/modroot/lib/modules || die "bind UML modules"
modprobe -d /run/modroot overlay || die "modprobe overlay"
mount -t devtmpfs devtmpfs /run/dev || die "mount devtmpfs"
mount -t ext4 /run/dev/ubda /run/disk || die "mount the persistent disk /dev/ubda"
# The boot count lives on the disk, outside the overlay (the guest cannot reset it).
n=$(cat /run/disk/boots 2> /dev/null || echo 0)
n=$((n + 1))
echo "$n" > /run/disk/boots
mkdir -p /run/disk/upper /run/disk/work
mount -t overlay overlay -o lowerdir=/,upperdir=/run/disk/upper,workdir=/run/disk/work /run/root \
    || die "mount overlay"
new=/run/root

# --- The guest's configuration, written into the overlay (never the host) every boot ---
sd=$new/etc/systemd/system
mkdir -p "$sd/multi-user.target.wants" "$new/etc/systemd/system-generators" \
    "$new/etc/systemd/journald.conf.d" "$new/etc/tmpfiles.d"
# Units that cannot work under UML, need what the guest lacks (network, real disks, a
# terminal) or only cost boot time. Masking is harmless for units the host does not have.
for unit in \
    getty.target console-getty.service getty@tty1.service serial-getty@ttyS0.service \
    timers.target systemd-timesyncd.service \
    postgresql.service uml-utilities.service e2scrub_reap.service cron.service ssh.service ssh.socket \
    networking.service ifupdown-pre.service NetworkManager.service systemd-networkd-wait-online.service \
    apparmor.service auditd.service rsyslog.service unattended-upgrades.service \
    systemd-remount-fs.service systemd-fsck-root.service \
    proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount systemd-binfmt.service \
    sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
    sys-fs-fuse-connections.mount dev-hugepages.mount systemd-pstore.service \
    ldconfig.service systemd-hwdb-update.service systemd-journal-catalog-update.service \
    systemd-update-done.service systemd-random-seed.service systemd-firstboot.service \
    systemd-repart.service systemd-machine-id-commit.service; do
    ln -sfn /dev/null "$sd/$unit"
done
# Generators for what the guest does not have (fstab of a real disk, LUKS, GPT, database).
for gen in systemd-fstab-generator systemd-gpt-auto-generator systemd-cryptsetup-generator \
    systemd-integritysetup-generator systemd-veritysetup-generator \
    systemd-hibernate-resume-generator postgresql-generator; do
    ln -sfn /dev/null "$new/etc/systemd/system-generators/$gen"
done
printf '[Journal]\nStorage=volatile\n' > "$new/etc/systemd/journald.conf.d/uml-boot.conf"
# /tmp is the host's (under the overlay, like every other directory): the checkout and the
# steps may live there. Debian's `D /tmp` would have systemd-tmpfiles hide it at boot.
echo 'd /tmp 1777 root root -' > "$new/etc/tmpfiles.d/tmp.conf"
echo uml-boot > "$new/etc/hostname"
# Hide the host's container marker (if the host runs in Docker/Podman): systemd would take
# the guest for a container and skip what it does on real machines. UML is detected as a VM.
rm -f "$new/.dockerenv" "$new/.containerenv"
# The host's /root/.bashrc runs pyenv (slow): blank root's dotfiles in the guest only.
for f in .bashrc .profile; do
    [ -e "$new/root/$f" ] && : > "$new/root/$f"
done
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
ln -sfn /lib/systemd/system/multi-user.target "$sd/default.target"

# --- Mounts of the new root: systemd mounts /proc, /sys, /dev and the rest itself ---
mount -t tmpfs -o mode=755 tmpfs "$new/run" || die "mount /run"
mkdir -p "$new/run/uml-boot"
echo "$n" > "$new/run/uml-boot/boot"
# The UML kernel's modules, by symlinks in the overlay: a bind mount would be a mount unit
# that systemd fails to unmount at shutdown while udevd still holds the module indexes.
mkdir -p "$new/usr/lib/modules"
for dir in /usr/lib/uml/modules/*; do
    rm -rf "$new/usr/lib/modules/${dir##*/}"
    ln -s "$dir" "$new/usr/lib/modules/${dir##*/}"
done
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
cd "$new" || die "cd $new"
mkdir -p .oldroot
pivot_root . .oldroot || die "pivot_root"
cd /
umount -l /.oldroot
exec /lib/systemd/systemd
