"""Renderers of the artifacts libvirt, QEMU and the kernel receive: domain XML (Nova's and libvirt's
forms) and its parser, QEMU argv/QMP, cgroup files, libvirt's tc program and ``tc show`` text,
libvirt's ovs-vsctl QoS. Changes with libvirt, QEMU or iproute2."""
