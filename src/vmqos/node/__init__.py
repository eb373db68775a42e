"""The reference compute node: a throwaway QEMU/TCG guest with Debian's stock kernel that runs
this host's own userspace, so that the exact programs of a real compute node (libvirt's tc
program with sfq/fw/police, Open vSwitch's kernel datapath, cgroup v2) can run where the
host's kernel lacks them.

Pure modules: ``config`` (what to boot, where its files live), ``qemu_argv`` (the QEMU and
virtiofsd command lines), ``initramfs`` (the boot archive's files and its init script),
``protocol`` (the control channel's frames). I/O: ``kernel`` (Debian's package, fetched and
unpacked into a content-addressed cache), ``image`` (the initramfs, built once), ``process``
(the QEMU/virtiofsd pair, found by command line, stopped in bounded steps), ``channel`` (the
host end of the control channel), ``lifecycle`` (start, run, stop, status). ``agent`` runs
inside the guest, from this host's interpreter through the shared root.

This package imports nothing at import time: the guest agent imports it too.
"""
