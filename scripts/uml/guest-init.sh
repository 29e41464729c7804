#!/bin/sh
# PID 1 of the User-mode Linux test guest (see scripts/uml/uml-run).
# The guest's root is the host's, read-only through hostfs, under a tmpfs overlay
# (writes vanish at power-off). $LANE_DIR, a host directory given on the kernel
# command line, is mounted read-write: it holds `cmd` (the script to run) and
# receives `rc` (its exit status). $UML_MODULES is the host directory of the kernel's
# modules (scripts/uml/kernel --modules), seen through the host's root.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
die() { echo "uml guest-init: $*" >&2; poweroff -f; echo o > /proc/sysrq-trigger; sleep 10; }

mount -t proc proc /proc || die "mount /proc"
mount -t tmpfs -o mode=755 tmpfs /run || die "mount /run"
# The host may have no /lib/modules: give modprobe a root of its own for the UML modules.
mkdir -p /run/modroot/lib/modules
mount --bind "$UML_MODULES" /run/modroot/lib/modules || die "bind UML modules ($UML_MODULES)"
modprobe -d /run/modroot overlay || die "modprobe overlay"
mkdir -p /run/ovl/upper /run/ovl/work /run/ovl/root
mount -t overlay overlay -o lowerdir=/,upperdir=/run/ovl/upper,workdir=/run/ovl/work /run/ovl/root \
    || die "mount overlay"
new=/run/ovl/root
mkdir -p "$new/.oldroot"
mount -t tmpfs -o mode=755 tmpfs "$new/run"
mount -t proc proc "$new/proc"
mount -t sysfs sysfs "$new/sys"
mount -t devtmpfs devtmpfs "$new/dev"
mkdir -p "$new/dev/pts" "$new/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$new/dev/pts"
ln -sf pts/ptmx "$new/dev/ptmx"
mount -t tmpfs -o mode=1777 tmpfs "$new/dev/shm"
mkdir -p "$new/lib/modules"
mount --bind "$UML_MODULES" "$new/lib/modules"
mkdir -p "$new$LANE_DIR"
mount -t hostfs -o "$LANE_DIR" hostfs "$new$LANE_DIR" || die "mount $LANE_DIR"
if [ -s "$LANE_DIR/rw" ]; then
    while IFS= read -r path; do
        mkdir -p "$new$path"
        mount -t hostfs -o "$path" hostfs "$new$path" || die "mount rw $path"
    done < "$LANE_DIR/rw"
fi
cd "$new" || die "cd $new"
pivot_root . .oldroot || die "pivot_root"
cd /
umount -l /.oldroot
hostname umlane
# The link types the host kernel may lack; loaded up front so a missing one is loud.
for module in 8021q macvlan macvtap veth bridge dummy ipvlan; do
    modprobe "$module" || echo "uml guest-init: modprobe $module failed" >&2
done
ip link set lo up
export HOME=/root
# Output goes to /dev/tty1 (UML con1 -> the runner's stdout); -opost keeps \n as is.
exec 3<>/dev/tty1
stty -opost <&3
( /bin/bash "$LANE_DIR/cmd" </dev/null 3>&- 2>&1; echo $? > "$LANE_DIR/rc" ) | cat >&3
sync
poweroff -f
die "poweroff failed"
