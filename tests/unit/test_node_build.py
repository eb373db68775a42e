"""The reference node's pure parts: its config, the QEMU/virtiofsd command lines, the
initramfs' modules and file list (vmqos.node.config, qemu_argv, initramfs, image)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from vmqos.errors import ValidationError
from vmqos.node.config import KernelTree, NodeConfig, NodeImage
from vmqos.node.image import has_interpreter
from vmqos.node.initramfs import (
    BOOT_MODULES,
    EntryKind,
    init_script,
    initramfs_entries,
    load_order,
    missing_modules,
    module_name,
    parse_modules_dep,
)
from vmqos.node.process import belongs
from vmqos.node.qemu_argv import kernel_cmdline, qemu_argv, qemu_value, virtiofsd_argv

# The lines of linux-image-6.1.0-57-cloud-amd64's modules.dep (after `depmod -b`) that the
# boot modules need, verbatim, plus one unrelated line.
MODULES_DEP = (Path(__file__).parents[1] / "fixtures" / "node" / "modules.dep").read_text()


def _config(**changes: object) -> NodeConfig:
    base: dict[str, object] = {"name": "t1", "state_dir": Path("/var/lib/vmqos"),
                               "cache_dir": Path("/var/cache/vmqos/node"),
                               "python": "/work/x/.venv/bin/python", "pythonpath": "/work/x/src"}
    return NodeConfig(**{**base, **changes})  # type: ignore[arg-type]


def _image() -> NodeImage:
    kernel = KernelTree(package="linux-image-6.1.0-57-cloud-amd64", version="6.1.192-3",
                        release="6.1.0-57-cloud-amd64", sha256="ab" * 32,
                        root=Path("/var/cache/vmqos/node") / ("ab" * 32) / "tree")
    return NodeImage(kernel, Path("/var/cache/vmqos/node/abab/initramfs-1.cpio"))


# -- modules ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "name"), [
    ("kernel/drivers/char/hw_random/virtio-rng.ko", "virtio_rng"),
    ("kernel/fs/fuse/virtiofs.ko", "virtiofs"),
    ("kernel/net/sched/sch_sfq.ko.xz", "sch_sfq"),
    ("virtio-rng", "virtio_rng"),
])
def test_module_names_are_normalised_as_kmod_does(path: str, name: str) -> None:
    assert module_name(path) == name


def test_load_order_puts_each_module_after_what_it_needs_once() -> None:
    order = load_order(parse_modules_dep(MODULES_DEP), BOOT_MODULES)
    assert order == (
        "kernel/drivers/virtio/virtio_ring.ko",
        "kernel/drivers/virtio/virtio.ko",
        "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
        "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
        "kernel/drivers/virtio/virtio_pci.ko",
        "kernel/drivers/char/virtio_console.ko",
        "kernel/drivers/char/hw_random/virtio-rng.ko",
        "kernel/fs/fuse/fuse.ko",
        "kernel/fs/fuse/virtiofs.ko",
        "kernel/fs/overlayfs/overlay.ko",
    )


def test_a_builtin_module_is_not_loaded_and_not_missing() -> None:
    deps = parse_modules_dep(MODULES_DEP.replace("kernel/fs/overlayfs/overlay.ko:\n", ""))
    assert "kernel/fs/overlayfs/overlay.ko" not in load_order(deps, ["overlay"])
    assert missing_modules(deps, "kernel/fs/overlayfs/overlay.ko\n", ["overlay"]) == ()
    assert missing_modules(deps, "", ["overlay", "fuse"]) == ("overlay",)


def test_entries_number_modules_in_load_order_and_hold_init() -> None:
    order = load_order(parse_modules_dep(MODULES_DEP), BOOT_MODULES)
    entries = initramfs_entries(Path("/bin/busybox"), Path("/m"), order)
    modules = [e for e in entries if e.path.startswith("modules/")]
    assert [e.path for e in modules][:2] == ["modules/00-virtio_ring.ko",
                                             "modules/01-virtio.ko"]
    assert sorted(e.path for e in modules) == [e.path for e in modules]
    assert modules[-1].source == Path("/m/kernel/fs/overlayfs/overlay.ko")
    by_path = {e.path: e for e in entries}
    assert by_path["init"].kind is EntryKind.TEXT and by_path["init"].mode == 0o755
    assert by_path["dev/console"].kind is EntryKind.CHAR
    assert (by_path["dev/console"].major, by_path["dev/console"].minor) == (5, 1)
    assert by_path["bin/busybox"].source == Path("/bin/busybox")
    # Directories come before what they hold (cpio restores in archive order).
    paths = [e.path for e in entries]
    for entry in entries:
        parent = entry.path.rpartition("/")[0]
        if parent:
            assert paths.index(parent) < paths.index(entry.path)


def test_init_mounts_the_shared_root_read_only_under_an_overlay_and_cgroup2() -> None:
    script = init_script()
    assert script.startswith("#!/bin/busybox sh\n")
    for line in ("mount -t virtiofs -o ro hostroot /host",
                 "mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work",
                 "mount -t cgroup2 cgroup2 $R/sys/fs/cgroup",
                 "echo /sbin/vmqos-modprobe > /proc/sys/kernel/modprobe",
                 '"$PY" -m vmqos.node.agent --port "$PORT"',
                 "reboot -f"):
        assert line in script


# -- command lines ---------------------------------------------------------------------------

def test_qemu_argv() -> None:
    assert qemu_argv(_config(), _image()) == [
        "qemu-system-x86_64", "-name", "vmqos-node-t1", "-machine", "pc,accel=tcg",
        "-cpu", "max", "-smp", "1", "-m", "1024M",
        "-object", "memory-backend-memfd,id=mem,size=1024M,share=on",
        "-numa", "node,memdev=mem",
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-chardev", "file,id=console,path=/var/lib/vmqos/node/t1/console.log",
        "-serial", "chardev:console",
        "-chardev", "socket,id=vfs,path=/var/lib/vmqos/node/t1/vfs.sock",
        "-device", "vhost-user-fs-pci,chardev=vfs,tag=hostroot",
        "-device", "virtio-serial-pci",
        "-chardev", "socket,id=ctl,path=/var/lib/vmqos/node/t1/ctl.sock,server=on,wait=off",
        "-device", "virtserialport,chardev=ctl,name=vmqos.ctl",
        "-device", "virtio-rng-pci",
        "-kernel", f"/var/cache/vmqos/node/{'ab' * 32}/tree/boot/vmlinuz-6.1.0-57-cloud-amd64",
        "-initrd", "/var/cache/vmqos/node/abab/initramfs-1.cpio",
        "-append", kernel_cmdline(_config(), _image()),
    ]


def test_kernel_cmdline() -> None:
    assert kernel_cmdline(_config(), _image()) == (
        "console=ttyS0 panic=-1 loglevel=4 random.trust_cpu=on "
        "vmqos.python=/work/x/.venv/bin/python vmqos.pythonpath=/work/x/src "
        f"vmqos.modules=/var/cache/vmqos/node/{'ab' * 32}/tree/lib/modules/"
        "6.1.0-57-cloud-amd64")


def test_virtiofsd_argv_shares_the_root() -> None:
    assert virtiofsd_argv(_config(memory_mib=512)) == [
        "/usr/lib/qemu/virtiofsd", "--socket-path=/var/lib/vmqos/node/t1/vfs.sock",
        "-o", "source=/", "-o", "cache=none", "-o", "sandbox=chroot"]


def test_a_comma_in_a_qemu_value_is_doubled() -> None:
    assert qemu_value("/srv/a,b/ctl.sock") == "/srv/a,,b/ctl.sock"
    argv = qemu_argv(_config(state_dir=Path("/srv/a,b")), _image())
    assert "socket,id=ctl,path=/srv/a,,b/node/t1/ctl.sock,server=on,wait=off" in argv


def test_both_command_lines_are_recognised_by_their_run_directory() -> None:
    config = _config()
    run_dir = config.paths.run_dir
    programs = (config.qemu, config.virtiofsd)
    assert belongs(qemu_argv(config, _image()), programs, run_dir)
    assert belongs(virtiofsd_argv(config), programs, run_dir)
    other = _config(name="t2")
    assert not belongs(qemu_argv(other, _image()), programs, run_dir)
    assert not belongs(["/usr/bin/vmqos", "node", "run", f"{run_dir}/x"], programs, run_dir)


# -- config ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "key"), [
    ({"name": "Bad Name"}, "name"),
    ({"name": ""}, "name"),
    ({"memory_mib": 128}, "memory_mib"),
    ({"cpus": 0}, "cpus"),
    ({"boot_timeout_s": 0}, "boot_timeout_s"),
    ({"python": "/opt/my python/bin/python3"}, "python"),
    ({"state_dir": Path("/tmp/" + "d" * 100)}, "VMQOS_STATE_DIR"),
])
def test_bad_config_names_the_key_and_what_is_allowed(changes: dict[str, object],
                                                       key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _config(**changes)
    assert caught.value.key == key
    assert caught.value.allowed


def test_runtime_files_are_the_sockets_and_the_record() -> None:
    paths = _config().paths
    assert [p.name for p in paths.runtime_files] == ["vfs.sock", "ctl.sock", "node.json"]
    assert all(p.parent == Path("/var/lib/vmqos/node/t1") for p in paths.runtime_files)


# -- busybox must be static ------------------------------------------------------------------

def _elf(program_types: list[int]) -> bytes:
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<Q", header, 0x20, 64)
    struct.pack_into("<HH", header, 0x36, 56, len(program_types))
    table = b"".join(struct.pack("<I", kind) + bytes(52) for kind in program_types)
    return bytes(header) + table


def test_an_elf_with_pt_interp_is_dynamic() -> None:
    assert has_interpreter(_elf([6, 3, 1]))        # PHDR, INTERP, LOAD
    assert not has_interpreter(_elf([1, 1, 4]))    # LOAD, LOAD, NOTE
    assert has_interpreter(Path("/usr/bin/env").read_bytes()[:65536])
    with pytest.raises(ValueError):
        has_interpreter(b"#!/bin/sh\n")
