#!/bin/sh
# PID 1 of every User-mode Linux guest of this project; scripts/uml/uml-boot (the one launcher)
# starts the kernel (scripts/uml/kernel) with it. UML re-executes the same kernel command line
# on a reboot, so every boot passes through here.
#
# The root is the host's, read-only through hostfs, under an overlay: on the persistent ext4
# disk ubd0 (/dev/ubda) when the launcher gave one, so what the guest writes (/etc,
# /usr/local, /var ...) comes back after a reboot, else on a tmpfs; the host's files are never
# touched. The kernel's modules are its own ($UML_MODULES), never the host's /lib/modules.
# UML's vector NICs (vecN) are renamed ethN. Then, by $UML_MODE:
#   run    run $UML_DIR/cmd (bash) with the output on tty1 (the launcher's stdout), write its
#          exit status to $UML_DIR/rc, power off. No systemd.
#   steps  boot systemd; once the boot is finished, a unit runs $UML_STEPS/boot-N.sh (N: this
#          boot's number, counted on the disk) with its output to boot-N.log and its status
#          to boot-N.rc; the script reboots or powers off (see uml-boot).
#   ssh    boot systemd with eth0 = $UML_MGMT and the host's sshd on $UML_DIR/sshd_config:
#          a long-running guest reached over SSH (the Molecule scenarios). With
#          UML_INIT=plain: the same guest without systemd (a shell as PID 1 runs sshd), as
#          on a host whose init system is another one (OpenRC, runit, a container's init).
#
# Kernel command line keys (key=value words become init's environment):
#   UML_MODE=run|steps|ssh
#   UML_MODULES=DIR    the kernel's modules (scripts/uml/kernel --modules)
#   UML_DIR=DIR        host dir, read-write: run: cmd in, rc out; steps: the launcher's
#                      timeline and journals; ssh: sshd_config and keys in, boots.log out
#   UML_NAME=NAME      hostname (default umlane)
#   UML_RW=A:B         more host dirs mounted read-write at the same paths (optional)
#   UML_STEPS=DIR      steps: host dir, read-write: boot-N.sh in, boot-N.log / boot-N.rc out
#   UML_AFTER=U1,U2    steps: units the step is also ordered after (optional)
#   UML_MGMT=A/P       ssh: the address of eth0 (the management NIC)
#   UML_INIT=plain     ssh: no systemd (default: systemd)
#
# Run with --step (by the unit uml-boot-step.service that this script installs), it is the
# step runner instead: see run_step below.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
self=$0
die() {
    echo "uml init: $*" >&2
    poweroff -f
    echo o > /proc/sysrq-trigger
    sleep 10
}
# The host's clock (UML reads it), for the launcher's per-boot timings.
stamp() { echo "$1 $(date +%s.%N) $(cut -d' ' -f1 /proc/uptime) ${2:-}" >> "$UML_DIR/timeline"; }

# ---- steps: the step unit's command -----------------------------------------------------------
# Run $UML_STEPS/boot-N.sh for this boot N, record its output and exit status. The script
# decides to `systemctl reboot` or `systemctl poweroff`; when it fails or decides neither, the
# guest is powered off here (the launcher then reports it).
run_step() {
    steps=$1
    UML_DIR=$2
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
    systemd-analyze time 2>&1 | sed "s/^/boot $n: /" >> "$UML_DIR/analyze"
    prev=$steps/boot-$((n - 1)).rc
    if [ -s "$prev" ] && [ "$(cat "$prev")" != 0 ]; then
        # A failed step that had already asked for a reboot: stop here.
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
        journalctl -b --no-pager --no-hostname -o short-monotonic > "$UML_DIR/boot-$n.journal" 2>&1
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

# ---- every mode: the root ------------------------------------------------------------------
case "${UML_MODE:-}" in
    run | steps | ssh) ;;
    *) die "UML_MODE must be run, steps or ssh (got '${UML_MODE:-}')" ;;
esac
[ -n "${UML_DIR:-}" ] || die "UML_DIR missing from the kernel command line"
[ -d "${UML_MODULES:-}" ] || die "UML_MODULES (the kernel's modules) missing: '${UML_MODULES:-}'"
mount -t proc proc /proc || die "mount /proc"
mount -t tmpfs -o mode=755 tmpfs /run || die "mount /run"
# Debian's UML kernel runs /sbin/hotplug for every uevent (CONFIG_UEVENT_HELPER_PATH); real
# Debian kernels run none. Each run forks a process: slow udev coldplug, and at shutdown
# systemd-shutdown waits ~10 s for such a helper mistaken for a leftover process.
echo > /proc/sys/kernel/hotplug
# The host may have no /lib/modules: modprobe gets a root of its own for the kernel's modules.
mkdir -p /run/modroot/lib/modules /run/dev /run/disk /run/root
mount --bind "$UML_MODULES" /run/modroot/lib/modules || die "bind the kernel's modules ($UML_MODULES)"
modprobe -d /run/modroot overlay || die "modprobe overlay"
mount -t devtmpfs devtmpfs /run/dev || die "mount devtmpfs"
if [ -b /run/dev/ubda ]; then
    mount -t ext4 /run/dev/ubda /run/disk || die "mount the persistent disk /dev/ubda"
else
    mount -t tmpfs -o mode=755 tmpfs /run/disk || die "mount the overlay's tmpfs"
fi
# The boot count lives on the disk, outside the overlay (the guest cannot reset it).
n=$(cat /run/disk/boots 2> /dev/null || echo 0)
n=$((n + 1))
echo "$n" > /run/disk/boots
mkdir -p /run/disk/upper /run/disk/work
mount -t overlay overlay -o lowerdir=/,upperdir=/run/disk/upper,workdir=/run/disk/work /run/root \
    || die "mount overlay"
new=/run/root
# UML's vector NICs are called vecN: the guests know them as ethN (in the order given).
for nic in $(ip -o link show | sed -n 's/^[0-9]*: \(vec[0-9]*\)[:@].*/\1/p'); do
    ip link set "$nic" name "eth${nic#vec}" || die "rename NIC $nic to eth${nic#vec}"
done
# The kernel's modules, by symlinks in the overlay: a bind mount would be a mount unit that
# systemd fails to unmount at shutdown while udevd still holds the module indexes.
mkdir -p "$new/usr/lib/modules"
for dir in "$UML_MODULES"/*; do
    rm -rf "$new/usr/lib/modules/${dir##*/}"
    ln -s "$dir" "$new/usr/lib/modules/${dir##*/}"
done
# Hide the host's container marker (if the host runs in Docker/Podman): systemd would take the
# guest for a container and skip what it does on real machines. UML is detected as a VM.
rm -f "$new/.dockerenv" "$new/.containerenv"
# The host's /root/.bashrc runs pyenv (slow): blank root's dotfiles in the guest only.
for f in .bashrc .profile; do
    [ -e "$new/root/$f" ] && : > "$new/root/$f"
done
echo "${UML_NAME:-umlane}" > "$new/etc/hostname"

# Host directories, read-write at the same paths in the new root.
host_dir() {
    mkdir -p "$new$2"
    mount -t hostfs -o "$1$2" hostfs "$new$2" || die "mount $2"
}
host_dirs() {
    for path in $(echo "${UML_RW:-}" | tr : ' '); do
        host_dir "" "$path"
    done
}

enter() {
    cd "$new" || die "cd $new"
    mkdir -p .oldroot
    pivot_root . .oldroot || die "pivot_root"
    cd /
    umount -l /.oldroot
}

# Without systemd: the API file systems, then into the new root (its hostname, the link types
# the host kernel may lack, loaded up front so a missing one is loud, lo up).
enter_without_systemd() {
    mount -t tmpfs -o mode=755 tmpfs "$new/run"
    # As on the host, where `ip netns` has run before: the registry's directory exists (empty),
    # so a test that notes /run/netns before and after sees no change from its first use.
    mkdir -p "$new/run/netns" "$new/run/lock"
    mount -t proc proc "$new/proc"
    mount -t sysfs sysfs "$new/sys"
    mount -t devtmpfs devtmpfs "$new/dev"
    mkdir -p "$new/dev/pts" "$new/dev/shm"
    mount -t devpts -o newinstance,ptmxmode=0666 devpts "$new/dev/pts"
    ln -sf pts/ptmx "$new/dev/ptmx"
    mount -t tmpfs -o mode=1777 tmpfs "$new/dev/shm"
    host_dir "" "$UML_DIR"
    host_dirs
    enter
    hostname "${UML_NAME:-umlane}"
    for module in 8021q macvlan macvtap veth bridge dummy ipvlan; do
        modprobe "$module" || echo "uml init: modprobe $module failed" >&2
    done
    ip link set lo up
}

# ---- run: one command, no systemd --------------------------------------------------------------
if [ "$UML_MODE" = run ]; then
    enter_without_systemd
    export HOME=/root
    # Output goes to /dev/tty1 (UML con1 -> the launcher's stdout); -opost keeps \n as is.
    exec 3<> /dev/tty1
    stty -opost <&3
    (
        /bin/bash "$UML_DIR/cmd" < /dev/null 3>&- 2>&1
        echo $? > "$UML_DIR/rc"
    ) | cat >&3
    sync
    poweroff -f
    die "poweroff failed"
fi

# ---- ssh without systemd (UML_INIT=plain): sshd under a shell that reaps orphans ----------------
if [ "$UML_MODE" = ssh ] && [ "${UML_INIT:-systemd}" = plain ]; then
    [ -n "${UML_MGMT:-}" ] || die "UML_MGMT missing from the kernel command line"
    enter_without_systemd
    ip address replace "$UML_MGMT" dev eth0
    for nic in /sys/class/net/eth*; do
        ip link set "${nic##*/}" up
    done
    mkdir -p /run/sshd
    echo "boot $n $(date +%s.%N)" >> "$UML_DIR/boots.log"
    /usr/sbin/sshd -D -e -f "$UML_DIR/sshd_config" >> "$UML_DIR/sshd.log" 2>&1 &
    # PID 1: each foreground `sleep` is waited for with waitpid(-1), which reaps the orphans too.
    while :; do
        sleep 1
    done
fi

# ---- steps and ssh: systemd as init ------------------------------------------------------------
# The guest's configuration, written into the overlay (never the host) every boot.
sd=$new/etc/systemd/system
mkdir -p "$sd/multi-user.target.wants" "$new/etc/systemd/system-generators" \
    "$new/etc/systemd/journald.conf.d" "$new/etc/tmpfiles.d"
# Units that cannot work under UML, need what the guest lacks (network, real disks, a
# terminal) or only cost boot time (and the host's sshd: a guest that wants one runs its own
# unit). Masking is harmless for units the host does not have.
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
# /tmp is the host's (under the overlay, like every other directory): the checkout, its
# .venv (the guests' Python) and the steps may live there. Debian's `D /tmp` would have
# systemd-tmpfiles hide it at boot.
echo 'd /tmp 1777 root root -' > "$new/etc/tmpfiles.d/tmp.conf"
ln -sfn /lib/systemd/system/multi-user.target "$sd/default.target"
# UML's vector NICs on taps: a reboot re-executes the kernel in the same process, which still
# holds the taps open and so cannot attach to them again. Taking every NIC down at the very
# end of the shutdown (systemd-shutdown runs these hooks last) closes them.
mkdir -p "$new/usr/lib/systemd/system-shutdown"
cat > "$new/usr/lib/systemd/system-shutdown/uml-nics-down" << 'EOS'
#!/bin/sh
for nic in /sys/class/net/eth*; do
    [ -e "$nic" ] && ip link set "${nic##*/}" down
done
exit 0
EOS
chmod 755 "$new/usr/lib/systemd/system-shutdown/uml-nics-down"

if [ "$UML_MODE" = steps ]; then
    [ -n "${UML_STEPS:-}" ] || die "UML_STEPS missing from the kernel command line"
    after=multi-user.target
    for unit in $(echo "${UML_AFTER:-}" | tr , ' '); do
        after="$after $unit"
    done
    # DefaultDependencies=no: wanted by multi-user.target yet ordered after it (as
    # systemd-update-utmp-runlevel.service); run_step then waits for the end of the boot.
    # Conflicts=shutdown.target: stopped (TERM to the shell only) when the step reboots.
    cat > "$sd/uml-boot-step.service" << EOF
[Unit]
Description=uml-boot step (boot-N.sh of $UML_STEPS)
DefaultDependencies=no
Requires=sysinit.target
After=sysinit.target basic.target $after
Conflicts=shutdown.target
Before=shutdown.target
# A step that cannot even start (a path the guest cannot see) must not leave the guest up.
FailureAction=poweroff
RequiresMountsFor=$UML_STEPS $UML_DIR

[Service]
Type=exec
ExecStart=/bin/sh "$self" --step "$UML_STEPS" "$UML_DIR"
Environment=HOME=/root
StandardOutput=journal+console
KillMode=mixed
TimeoutStartSec=infinity
TimeoutStopSec=600
EOF
    ln -sfn ../uml-boot-step.service "$sd/multi-user.target.wants/uml-boot-step.service"
else
    [ -n "${UML_MGMT:-}" ] || die "UML_MGMT missing from the kernel command line"
    # eth0 up with the management address, every other ethN up without addresses (what a
    # distribution's network config does with a NIC that has no address of its own).
    mkdir -p "$new/usr/local/sbin"
    cat > "$new/usr/local/sbin/uml-guest-net" << EOF
#!/bin/sh
ip link set lo up
ip address replace $UML_MGMT dev eth0
for nic in /sys/class/net/eth*; do
    ip link set "\${nic##*/}" up
done
EOF
    chmod 755 "$new/usr/local/sbin/uml-guest-net"
    cat > "$sd/uml-guest-net.service" << EOF
[Unit]
Description=uml-guest NICs: eth0 $UML_MGMT (management), the others up without addresses
DefaultDependencies=no
After=local-fs.target systemd-sysctl.service
Before=network.target
Wants=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/uml-guest-net

[Install]
WantedBy=multi-user.target
EOF
    cat > "$sd/uml-guest-sshd.service" << EOF
[Unit]
Description=uml-guest sshd ($UML_DIR/sshd_config)
After=uml-guest-net.service
Wants=uml-guest-net.service

[Service]
Type=exec
RuntimeDirectory=sshd
RuntimeDirectoryMode=0755
ExecStart=/usr/sbin/sshd -D -e -f $UML_DIR/sshd_config
KillMode=process
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
    ln -sfn ../uml-guest-net.service "$sd/multi-user.target.wants/uml-guest-net.service"
    ln -sfn ../uml-guest-sshd.service "$sd/multi-user.target.wants/uml-guest-sshd.service"
fi

mount -t tmpfs -o mode=755 tmpfs "$new/run" || die "mount /run"
if [ "$UML_MODE" = steps ]; then
    mkdir -p "$new/run/uml-boot"
    echo "$n" > "$new/run/uml-boot/boot"
    # The steps dir and UML_DIR are synchronous: a step's log reaches the host as it is
    # written, even when the launcher has to kill a hung guest.
    host_dir sync, "$UML_STEPS"
    host_dir sync, "$UML_DIR"
    UML_DIR=$new$UML_DIR stamp "boot $n init"
else
    host_dir "" "$UML_DIR"
    echo "boot $n $(date +%s.%N)" >> "$new$UML_DIR/boots.log"
fi
host_dirs
enter
exec /lib/systemd/systemd
