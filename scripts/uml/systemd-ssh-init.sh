#!/bin/sh
# PID 1 of a long-running User-mode Linux guest started by scripts/molecule/lab.py: it boots
# systemd for real, keeps its writes across reboots and is reached over SSH (the Molecule
# scenarios under extensions/molecule/ manage such guests with Ansible).
#
# As scripts/uml/systemd-init.sh, with the same root (the host's, under an overlay kept on a
# persistent disk: systemd-root.sh): every boot it counts the boot, (re)writes the guest's
# own units and masks into the overlay, mounts the guest's host directory read-write at the
# same path, pivots into the overlay and execs systemd. Instead of a
# step unit, the guest gets:
#   uml-guest-net.service   eth0 up with the management address, every other ethN up
#                           without addresses (what a distribution's network config does
#                           with a NIC that has no address of its own)
#   uml-guest-sshd.service  the host's /usr/sbin/sshd with $UML_GUEST_DIR/sshd_config
#
# Kernel command line keys (key=value words become init's environment):
#   UML_GUEST_DIR=DIR     host dir, read-write: sshd_config and keys in, boots.log and
#                         sshd.log out
#   UML_GUEST_NAME=NAME   hostname
#   UML_GUEST_MGMT=A/P    address of eth0 (the management NIC)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
die() {
    echo "uml-guest init: $*" >&2
    poweroff -f
    echo o > /proc/sysrq-trigger
    sleep 10
}
if [ -z "${UML_GUEST_DIR:-}" ] || [ -z "${UML_GUEST_NAME:-}" ] || [ -z "${UML_GUEST_MGMT:-}" ]; then
    die "UML_GUEST_DIR, UML_GUEST_NAME and UML_GUEST_MGMT must be on the kernel command line"
fi
# shellcheck source=scripts/uml/systemd-root.sh
. "$(dirname "$0")/systemd-root.sh"
root_overlay

# --- The guest's configuration, written into the overlay (never the host) every boot ---
guest_config "$UML_GUEST_NAME"
mkdir -p "$new/usr/local/sbin"
cat > "$new/usr/local/sbin/uml-guest-net" << EOF
#!/bin/sh
ip link set lo up
ip address replace $UML_GUEST_MGMT dev eth0
for nic in /sys/class/net/eth*; do
    ip link set "\${nic##*/}" up
done
EOF
chmod 755 "$new/usr/local/sbin/uml-guest-net"
cat > "$sd/uml-guest-net.service" << EOF
[Unit]
Description=uml-guest NICs: eth0 $UML_GUEST_MGMT (management), the others up without addresses
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
Description=uml-guest sshd ($UML_GUEST_DIR/sshd_config)
After=uml-guest-net.service
Wants=uml-guest-net.service

[Service]
Type=exec
RuntimeDirectory=sshd
RuntimeDirectoryMode=0755
ExecStart=/usr/sbin/sshd -D -e -f $UML_GUEST_DIR/sshd_config
KillMode=process
Restart=on-failure

[Install]
WantedBy=multi-user.target
EOF
ln -sfn ../uml-guest-net.service "$sd/multi-user.target.wants/uml-guest-net.service"
ln -sfn ../uml-guest-sshd.service "$sd/multi-user.target.wants/uml-guest-sshd.service"

new_root_mounts
mkdir -p "$new$UML_GUEST_DIR"
mount -t hostfs -o "$UML_GUEST_DIR" hostfs "$new$UML_GUEST_DIR" || die "mount $UML_GUEST_DIR"
echo "boot $n $(date +%s.%N)" >> "$new$UML_GUEST_DIR/boots.log"
enter_systemd
