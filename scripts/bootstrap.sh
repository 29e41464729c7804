#!/usr/bin/env bash
# One-time (and idempotent) set-up on a Debian machine, as root:
# OS packages, a virtualenv with pinned Python tools, and the collection on
# Ansible's search path (.build/collections/ansible_collections/linuxnet/macvlan).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v ip >/dev/null || need_apt+=(iproute2)
command -v ping >/dev/null || need_apt+=(iputils-ping)
command -v nsenter >/dev/null || need_apt+=(util-linux)
# sysctl(8): the tests read and set sysctls with it.
command -v sysctl >/dev/null || [ -x /usr/sbin/sysctl ] || need_apt+=(procps)
command -v git >/dev/null || need_apt+=(git)
command -v shellcheck >/dev/null || need_apt+=(shellcheck)
# The User-mode Linux guests (a kernel with 8021q/dummy/ipvlan: scripts/uml/kernel, below):
# modprobe, which the guests run from the host's root; patchelf for the kernel's private glibc.
command -v modprobe >/dev/null || [ -x /usr/sbin/modprobe ] || need_apt+=(kmod)
command -v patchelf >/dev/null || need_apt+=(patchelf)
# The Molecule scenarios' guests run the host's sshd binary, started by their own systemd.
# The host itself is not meant to get an SSH server from this: see below.
installs_sshd=false
[ -x /usr/sbin/sshd ] || { need_apt+=(openssh-server); installs_sshd=true; }
command -v ssh >/dev/null || need_apt+=(openssh-client)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "bootstrap: installing ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if $installs_sshd; then
    # Debian enables (and, where policy-rc.d allows, starts) ssh.service on install: the host had
    # no SSH server before, so it gets none now; only the binary is wanted.
    systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 \
        || systemctl disable ssh.service ssh.socket >/dev/null 2>&1 || true
    echo "bootstrap: openssh-server installed for the Molecule guests; ssh.service stays disabled on this host"
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
# The one other collection the tests use (not the collection itself): ansible.posix, for the
# Molecule scenarios' timer callback, from requirements.txt's ansible package (no Galaxy server).
.venv/bin/python -c 'import ansible_collections.ansible.posix.plugins.callback.timer' 2>/dev/null || {
    echo "bootstrap: .venv lacks ansible.posix (requirements.txt's ansible package), which the Molecule scenarios use" >&2
    exit 1
}

mkdir -p .build/collections/ansible_collections/linuxnet
ln -sfn "$PWD" .build/collections/ansible_collections/linuxnet/macvlan

# The User-mode Linux kernel of every guest (the VM lane, the reboot test, Molecule, the lab's
# 8021q host), proven by a boot probe. Without one, everything on the host's kernel still
# works; what needs a guest fails with the reason this prints.
scripts/uml/kernel provide || echo "bootstrap: no usable User-mode Linux kernel: the guest lanes will fail (see above)" >&2
echo "bootstrap: ready ($(.venv/bin/ansible --version | sed -n 1p))"
