#!/usr/bin/env bash
# Self-check of scripts/uml/uml-boot: state written in the guest (a sysctl.d file, a file
# under /etc, an enabled systemd unit) must come back after a real reboot through systemd,
# be applied by systemd at boot, while /run starts empty and the host stays untouched.
# usage: scripts/uml/uml-boot-selftest.sh [--no-udev] [uml-boot options...]
#   (by default the guest gets systemd-udevd, see uml-boot --udev; --no-udev skips it)
set -u
here=$(cd "$(dirname "$0")" && pwd)
udev=(--udev)
if [ "${1:-}" = --no-udev ]; then
    udev=()
    shift
fi
steps=$(mktemp -d "${TMPDIR:-/tmp}/uml-boot-selftest.XXXXXX") || exit 2
trap 'rm -rf "$steps"' EXIT
host_before=$(sysctl -n net.ipv4.conf.default.arp_ignore)

cat > "$steps/boot-1.sh" << 'EOF'
set -eu
echo "boot $UML_BOOT_N: pid 1 is $(cat /proc/1/comm), arp_ignore $(sysctl -n net.ipv4.conf.default.arp_ignore)"
echo 'net.ipv4.conf.default.arp_ignore = 1' > /etc/sysctl.d/90-selftest.conf
mkdir -p /etc/linuxnet-macvlan /usr/local/lib/uml-selftest
echo persisted > /etc/linuxnet-macvlan/selftest
# An enabled unit, as the product installs one: it must run at the next boot.
cat > /etc/systemd/system/uml-selftest.service << 'UNIT'
[Unit]
Description=uml-boot self-test marker
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "$(cat /proc/1/comm)" > /run/uml-selftest.ran'
[Install]
WantedBy=multi-user.target
UNIT
systemctl enable uml-selftest.service
# Volatile state that must not survive the reboot.
ip netns add uml-selftest
ls /run/netns
systemctl reboot
EOF

cat > "$steps/boot-2.sh" << 'EOF'
fail=0
check() {
    if [ "$2" = "$3" ]; then echo "ok   $1: $2"; else echo "FAIL $1: '$2', expected '$3'"; fail=1; fi
}
check "boot number" "$UML_BOOT_N" 2
check "PID 1" "$(cat /proc/1/comm)" systemd
check "file under /etc" "$(cat /etc/linuxnet-macvlan/selftest 2>&1)" persisted
check "arp_ignore (systemd-sysctl)" "$(sysctl -n net.ipv4.conf.default.arp_ignore)" 1
check "systemd-sysctl.service" "$(systemctl is-active systemd-sysctl.service)" active
check "enabled unit ran at boot" "$(cat /run/uml-selftest.ran 2>&1)" systemd
check "/run/netns empty" "$(ls -A /run/netns 2>/dev/null)" ""
check "system state" "$(systemctl is-system-running)" running
if [ "${UML_SELFTEST_UDEV:-0}" = 1 ]; then
    check "systemd-udevd.service" "$(systemctl is-active systemd-udevd.service)" active
fi
check "network links" "$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')" "lo "
[ "$fail" = 0 ] || systemctl --failed --no-pager
systemctl poweroff
exit "$fail"
EOF
if [ ${#udev[@]} -gt 0 ]; then
    sed -i '1i export UML_SELFTEST_UDEV=1' "$steps/boot-2.sh"
fi

"$here/uml-boot" --timeout 300 --verbose "${udev[@]}" "$@" --steps "$steps"
status=$?
# The host must be untouched.
if [ -e /etc/sysctl.d/90-selftest.conf ] || [ -e /etc/linuxnet-macvlan/selftest ] \
    || [ -e /etc/systemd/system/uml-selftest.service ] || [ -e /run/netns/uml-selftest ]; then
    echo "uml-boot-selftest: FAIL: the guest's writes reached the host" >&2
    status=1
fi
if [ "$(sysctl -n net.ipv4.conf.default.arp_ignore)" != "$host_before" ]; then
    echo "uml-boot-selftest: FAIL: the host's arp_ignore changed" >&2
    status=1
fi
if [ "$status" = 0 ]; then
    echo "uml-boot-selftest: PASS"
else
    echo "uml-boot-selftest: FAIL (uml-boot exit $status)" >&2
fi
exit "$status"
