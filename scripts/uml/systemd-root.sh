# shellcheck shell=sh
# Sourced by the PID-1 scripts of User-mode Linux guests that boot systemd for real
# (systemd-init.sh: scripts/uml/uml-boot's step guests; systemd-ssh-init.sh: the Molecule
# scenarios' guests reached over SSH). What they share:
#   root_overlay    the host's root, read-only through hostfs, under an overlay whose
#                   upper/work dirs live on a persistent ext4 disk (ubd0 = /dev/ubda), so
#                   whatever the guest writes (/etc, /usr/local, /var ...) comes back after a
#                   reboot while the host's files are never touched; sets $new (its mount
#                   point) and $n (this boot's number, counted on the disk)
#   guest_config HOSTNAME   units masked, generators off, volatile journal, hostname, ...
#                   written into the overlay every boot
#   new_root_mounts /run and the UML kernel's modules ($UML_MODULES) in the new root
#   enter_systemd   pivot into the new root and exec systemd
# The caller defines die() and PATH. UML re-executes the same kernel command line on reboot,
# so every boot passes through here.

root_overlay() {
    mount -t proc proc /proc || die "mount /proc"
    mount -t tmpfs -o mode=755 tmpfs /run || die "mount /run"
    # Debian's UML kernel runs /sbin/hotplug for every uevent (CONFIG_UEVENT_HELPER_PATH); real
    # Debian kernels run none. Each run forks a process: slow udev coldplug, and at shutdown
    # systemd-shutdown waits ~10 s for such a helper mistaken for a leftover process.
    echo > /proc/sys/kernel/hotplug
    # The host may have no /lib/modules: give modprobe a root of its own for the kernel's own
    # modules ($UML_MODULES, from the kernel command line: scripts/uml/kernel --modules).
    [ -d "${UML_MODULES:-}" ] || die "UML_MODULES (the kernel's modules) missing: '${UML_MODULES:-}'"
    mkdir -p /run/modroot/lib/modules /run/dev /run/disk /run/root
    mount --bind "$UML_MODULES" /run/modroot/lib/modules || die "bind UML modules ($UML_MODULES)"
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
    # UML's vector NICs are called vecN: the guests know them as ethN (in the order given).
    for nic in $(ip -o link show | sed -n 's/^[0-9]*: \(vec[0-9]*\)[:@].*/\1/p'); do
        ip link set "$nic" name "eth${nic#vec}" || die "rename NIC $nic to eth${nic#vec}"
    done
}

guest_config() {
    sd=$new/etc/systemd/system
    mkdir -p "$sd/multi-user.target.wants" "$new/etc/systemd/system-generators" \
        "$new/etc/systemd/journald.conf.d" "$new/etc/tmpfiles.d"
    # Units that cannot work under UML, need what the guest lacks (network, real disks, a
    # terminal) or only cost boot time (and the host's sshd: a guest that wants one runs its
    # own unit). Masking is harmless for units the host does not have.
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
    echo "$1" > "$new/etc/hostname"
    # Hide the host's container marker (if the host runs in Docker/Podman): systemd would take
    # the guest for a container and skip what it does on real machines. UML is detected as a VM.
    rm -f "$new/.dockerenv" "$new/.containerenv"
    # The host's /root/.bashrc runs pyenv (slow): blank root's dotfiles in the guest only.
    for f in .bashrc .profile; do
        [ -e "$new/root/$f" ] && : > "$new/root/$f"
    done
    ln -sfn /lib/systemd/system/multi-user.target "$sd/default.target"
    # UML's vector NICs on taps: a reboot re-executes the kernel in the same process, which
    # still holds the taps open and so cannot attach to them again. Taking every NIC down at
    # the very end of the shutdown (systemd-shutdown runs these hooks last) closes them.
    mkdir -p "$new/usr/lib/systemd/system-shutdown"
    cat > "$new/usr/lib/systemd/system-shutdown/uml-nics-down" << 'EOS'
#!/bin/sh
for nic in /sys/class/net/eth*; do
    [ -e "$nic" ] && ip link set "${nic##*/}" down
done
exit 0
EOS
    chmod 755 "$new/usr/lib/systemd/system-shutdown/uml-nics-down"
}

# Mounts of the new root: systemd mounts /proc, /sys, /dev and the rest itself.
new_root_mounts() {
    mount -t tmpfs -o mode=755 tmpfs "$new/run" || die "mount /run"
    # The UML kernel's modules, by symlinks in the overlay: a bind mount would be a mount unit
    # that systemd fails to unmount at shutdown while udevd still holds the module indexes.
    mkdir -p "$new/usr/lib/modules"
    for dir in "$UML_MODULES"/*; do
        rm -rf "$new/usr/lib/modules/${dir##*/}"
        ln -s "$dir" "$new/usr/lib/modules/${dir##*/}"
    done
}

enter_systemd() {
    cd "$new" || die "cd $new"
    mkdir -p .oldroot
    pivot_root . .oldroot || die "pivot_root"
    cd /
    umount -l /.oldroot
    exec /lib/systemd/systemd
}
