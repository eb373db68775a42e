#!/usr/bin/env bash
# Set up vmqos on a brand-new Debian 12 machine (run as root): Debian packages, uv, and a
# virtual environment in .venv with the exact pinned dependencies of requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages vmqos and its tests use: tc/ip (iproute2), iperf3 (traffic measurement),
# losetup (util-linux, the instances' disks), kmod (ifb/sch_* modules), PostgreSQL (the API's
# multi-host database), ssh-keygen (openssh-client: the API tests create a keypair the way
# the seed note does), python3-venv for the virtual environment, systemd's systemd-analyze
# (the tests verify the agent's unit, examples/vmqos-agent.service) and Prometheus's promtool
# (they check the agent's alert rules, examples/prometheus/; the daemon is not started).
packages=(iproute2 iperf3 util-linux kmod postgresql openssh-client python3-venv python3-pip
          systemd prometheus)
# --with-libvirt (the test suite): libvirt and QEMU, so that `vmqos audit` is tested against a
# real libvirtd and real QEMU block throttling (the tests start the daemons themselves); and
# what `vmqos node` builds its guest's initramfs with (tests/node): a static busybox (it
# replaces Debian's dynamic `busybox` package if that is installed) and cpio. The node's
# kernel is Debian's package, which vmqos downloads itself and never installs.
if [ "${1:-}" = "--with-libvirt" ]; then
  packages+=(qemu-system-x86 qemu-utils libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
             busybox-static cpio)
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# PIP_BREAK_SYSTEM_PACKAGES: where python3 is Debian's own (PEP 668 "externally managed"),
# pip refuses a root install without it; uv is one static binary and touches nothing else.
command -v uv >/dev/null || PIP_BREAK_SYSTEM_PACKAGES=1 \
  python3 -m pip install -q --disable-pip-version-check "uv==0.13.9"

[ -x .venv/bin/python ] || uv venv -q --python python3 .venv
uv pip sync -q --python .venv/bin/python requirements.lock
uv pip install -q --python .venv/bin/python --no-deps -e .
