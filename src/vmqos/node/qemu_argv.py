"""The command lines of a node's two processes, from its typed config: pure.

virtiofsd shares the host's ``/`` (the guest mounts it read-only and writes to a tmpfs
overlay); QEMU runs TCG (``/dev/kvm`` exists on these machines but KVM guests abort), its RAM a
shared memfd because vhost-user (virtiofsd) maps the guest's memory, the console a file, the
control channel a virtio-serial port behind a unix socket QEMU listens on. ``-no-reboot`` with
the kernel's ``panic=-1``: a guest that reboots or panics ends QEMU, so a dead guest is a gone
process, never a hung one. Both command lines name the node's run directory, which is how
vmqos.node.process recognises them later.
"""

from __future__ import annotations

from vmqos.node.config import NodeConfig, NodeImage, check_word
from vmqos.node.initramfs import CONTROL_PORT, FS_TAG

__all__ = ["kernel_cmdline", "qemu_argv", "qemu_value", "virtiofsd_argv"]


def qemu_value(text: str) -> str:
    """A value inside a QEMU ``-opt key=value,...`` list: a comma is written twice
    (QEMU util/qemu-option.c ``get_opt_value``)."""
    return text.replace(",", ",,")


def kernel_cmdline(config: NodeConfig, image: NodeImage) -> str:
    """The guest kernel's command line: the serial console, die on panic, trust the CPU's
    RDRAND for early entropy, and the agent's three values (see initramfs.init_script)."""
    words = [
        "console=ttyS0", "panic=-1", "loglevel=4", "random.trust_cpu=on",
        f"vmqos.python={check_word('python', config.python)}",
        f"vmqos.pythonpath={check_word('pythonpath', config.pythonpath)}",
        f"vmqos.modules={check_word('modules', str(image.kernel.modules_dir))}",
    ]
    return " ".join(words)


def virtiofsd_argv(config: NodeConfig) -> list[str]:
    """QEMU 7.2's virtiofsd, sharing ``/``; ``sandbox=chroot`` because these machines are
    containers in which its default (namespaces + pivot_root) is not available."""
    return [config.virtiofsd, f"--socket-path={config.paths.vfs_socket}", "-o", "source=/",
            "-o", "cache=none", "-o", "sandbox=chroot"]


def qemu_argv(config: NodeConfig, image: NodeImage) -> list[str]:
    paths = config.paths
    mem = f"{config.memory_mib}M"
    return [
        config.qemu,
        "-name", f"vmqos-node-{config.name}",
        "-machine", "pc,accel=tcg",
        "-cpu", "max",
        "-smp", str(config.cpus),
        "-m", mem,
        "-object", f"memory-backend-memfd,id=mem,size={mem},share=on",
        "-numa", "node,memdev=mem",
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-chardev", f"file,id=console,path={qemu_value(str(paths.console_log))}",
        "-serial", "chardev:console",
        "-chardev", f"socket,id=vfs,path={qemu_value(str(paths.vfs_socket))}",
        "-device", f"vhost-user-fs-pci,chardev=vfs,tag={FS_TAG}",
        "-device", "virtio-serial-pci",
        "-chardev",
        f"socket,id=ctl,path={qemu_value(str(paths.control_socket))},server=on,wait=off",
        "-device", f"virtserialport,chardev=ctl,name={CONTROL_PORT}",
        "-device", "virtio-rng-pci",
        "-kernel", str(image.kernel.vmlinuz),
        "-initrd", str(image.initramfs),
        "-append", kernel_cmdline(config, image),
    ]
