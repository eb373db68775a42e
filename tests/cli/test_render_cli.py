"""End-to-end tests of ``vmqos render``: each subcommand against literal vectors (libvirt's
own unit tests, what libvirt 9.0, iproute2 6.1 and QEMU 7.2 did on this host, Nova's and
Neutron's code, each named where it is used) and the seed note, in text and ``--format json``,
plus the exit-code contract through the real process."""

from __future__ import annotations

import json
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.libvirt_vectors import DEV, VM_UUID
from support.libvirt_vectors import VECTORS as LIBVIRT_VECTORS
from support.seed import note_output, qemu_drive_option

from .conftest import (
    SEED_DISK,
    SEED_INBOUND,
    SEED_OUTBOUND,
    Outcome,
    assert_user_error,
    normalise_direct_packets,
    props,
)

Run = Callable[..., Outcome]
Proc = Callable[..., subprocess.CompletedProcess[str]]

RENDER_SUBCOMMANDS = ("domain-xml", "qemu-argv", "qmp", "cgroup", "tc", "tc-show",
                      "ovs-libvirt", "neutron")


def _sections(text: str) -> dict[str, list[str]]:
    """``render tc-show`` text: ``$ <command>`` headers, each followed by its output lines."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("$ "):
            current = sections.setdefault(line[2:], [])
        else:
            assert current is not None, f"output line before any `$ tc ...` header: {line!r}"
            current.append(line)
    return sections


def _collapsed(xml: str) -> str:
    """XML with the indentation between tags removed, to compare against literal fragments."""
    return re.sub(r">\s+<", "><", xml)


# --------------------------------------------------------------------------------------------
# render tc — libvirt's virNetDevBandwidthSet (src/util/virnetdevbandwidth.c) on a tap `tapX`
# (swapped) and on macvtap, and libvirt's unit-test vectors on eth0. The default --vif-type is
# `bridge` (OVS hybrid plug: a tap).

SEED_TC_TAPX = [
    "tc qdisc del dev tapX root",
    "tc qdisc del dev tapX ingress",
    "tc qdisc add dev tapX root handle 1: htb default 1",
    "tc class add dev tapX parent 1: classid 1:1 htb rate 32768kbps ceil 65536kbps "
    "burst 131072kb quantum 2796",
    "tc qdisc add dev tapX parent 1:1 handle 2: sfq perturb 10",
    "tc filter add dev tapX parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
]

TC_VECTORS: dict[str, tuple[tuple[str, ...], tuple[str, ...], list[str]]] = {
    # id: (properties, extra options, expected stdout lines)
    "tap inbound 32768/65536/131072": (SEED_INBOUND, ("--dev", "tapX"), SEED_TC_TAPX),
    "tap outbound 32768/65536/131072": (SEED_OUTBOUND, ("--dev", "tapX"), [
        "tc qdisc del dev tapX root",
        "tc qdisc del dev tapX ingress",
        "tc qdisc add dev tapX ingress",
        "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate "
        "32768kbps burst 131072kb mtu 64kb drop flowid :1",
    ]),
    "tap outbound 32768 (burst defaults to average)": (
        ("quota:vif_outbound_average=32768",), ("--dev", "tapX"), [
            "tc qdisc del dev tapX root",
            "tc qdisc del dev tapX ingress",
            "tc qdisc add dev tapX ingress",
            "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate "
            "32768kbps burst 32768kb mtu 64kb drop flowid :1",
        ]),
    "tap outbound 0 still polices": (("quota:vif_outbound_average=0",), ("--dev", "tapX"), [
        "tc qdisc del dev tapX root",
        "tc qdisc del dev tapX ingress",
        "tc qdisc add dev tapX ingress",
        "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate "
        "0kbps burst 0kb mtu 64kb drop flowid :1",
    ]),
    "tap inbound average 0 peak 100: no add commands": (
        ("quota:vif_inbound_average=0", "quota:vif_inbound_peak=100"), ("--dev", "tapX"), [
            "tc qdisc del dev tapX root",
            "tc qdisc del dev tapX ingress",
        ]),
    "tap both directions": (
        ("quota:vif_inbound_average=100", "quota:vif_inbound_peak=200",
         "quota:vif_inbound_burst=300", "quota:vif_outbound_average=10",
         "quota:vif_outbound_peak=20", "quota:vif_outbound_burst=30"), ("--dev", "tapX"), [
            "tc qdisc del dev tapX root",
            "tc qdisc del dev tapX ingress",
            "tc qdisc add dev tapX root handle 1: htb default 1",
            "tc class add dev tapX parent 1: classid 1:1 htb rate 100kbps ceil 200kbps "
            "burst 300kb quantum 8",
            "tc qdisc add dev tapX parent 1:1 handle 2: sfq perturb 10",
            "tc filter add dev tapX parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
            "tc qdisc add dev tapX ingress",
            "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate "
            "10kbps burst 30kb mtu 64kb drop flowid :1",
        ]),
    "macvtap both directions (not swapped)": (
        ("quota:vif_inbound_average=100", "quota:vif_inbound_peak=200",
         "quota:vif_inbound_burst=300", "quota:vif_outbound_average=10",
         "quota:vif_outbound_peak=20", "quota:vif_outbound_burst=30"),
        ("--dev", "tapX", "--vif-type", "direct"), [
            "tc qdisc del dev tapX root",
            "tc qdisc del dev tapX ingress",
            "tc qdisc add dev tapX root handle 1: htb default 1",
            "tc class add dev tapX parent 1: classid 1:1 htb rate 10kbps ceil 20kbps "
            "burst 30kb quantum 1",
            "tc qdisc add dev tapX parent 1:1 handle 2: sfq perturb 10",
            "tc filter add dev tapX parent 1:0 protocol all prio 1 handle 1 fw flowid 1",
            "tc qdisc add dev tapX ingress",
            "tc filter add dev tapX parent ffff: protocol all u32 match u32 0 0 police rate "
            "100kbps burst 300kb mtu 64kb drop flowid :1",
        ]),
    # libvirt's own vectors (tests/virnetdevbandwidthtest.c) on eth0.
    **{f"libvirt {v.name}": (v.properties, ("--dev", DEV), list(v.tc))
       for v in LIBVIRT_VECTORS if v.element},
    # Nova writes no <bandwidth> for vhost-user and host devices (nova virt/libvirt/vif.py,
    # bug 1814882), so libvirt runs no tc.
    "vhostuser: no bandwidth": (SEED_INBOUND, ("--dev", "tapX", "--vif-type", "vhostuser"),
                                    []),
    "hostdev: no bandwidth": (SEED_INBOUND, ("--dev", "tapX", "--vif-type", "hostdev"), []),
}


def test_render_tc_for_an_sriov_agent_vf_says_libvirt_refuses(vmqos: Run) -> None:
    # The SR-IOV agent's VF does get <bandwidth> (get_config_hw_veb), which libvirt refuses
    # (domain_validate.c virDomainActualNetDefValidate) before any tc could run.
    out = vmqos("render", "tc", *props(*SEED_INBOUND), "--vif-type", "hw_veb")
    assert (out.code, out.lines) == (0, [])
    assert "libvirt runs no tc for a VF: it refuses a <bandwidth>" in out.stderr


@pytest.mark.parametrize("case", TC_VECTORS)
def test_render_tc_vectors(vmqos: Run, case: str) -> None:
    properties, options, expected = TC_VECTORS[case]
    out = vmqos("render", "tc", *props(*properties), *options)
    assert (out.code, out.stderr) == (0, "")
    assert out.lines == expected
    assert all(line.startswith("tc ") for line in out.lines)


@pytest.mark.parametrize("vif_type", ["bridge", "ethernet"])
def test_render_tc_taps_are_swapped_like_the_default(vmqos: Run, vif_type: str) -> None:
    """The default --vif-type is `bridge` (a tap); a bare tap (`ethernet`) is swapped too:
    inbound becomes the tap's root htb (libvirt passes swapped = not
    virDomainNetTypeSharesHostView to virNetDevBandwidthSet)."""
    default = vmqos("render", "tc", *props(*SEED_INBOUND), "--dev", "tapX")
    explicit = vmqos("render", "tc", *props(*SEED_INBOUND), "--dev", "tapX",
                     "--vif-type", vif_type)
    assert default.lines == explicit.lines == SEED_TC_TAPX


def test_render_tc_readme_example_on_the_seed_tap(run_vmqos: Proc) -> None:
    """The README's first example, through the installed entry point."""
    proc = run_vmqos("render", "tc", *props(*SEED_INBOUND), "--dev", "tapbb8410ad-a0")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "\n".join(
        line.replace("tapX", "tapbb8410ad-a0") for line in SEED_TC_TAPX) + "\n"


def test_render_tc_default_dev_is_tap_plus_port_id_prefix(vmqos: Run) -> None:
    out = vmqos("render", "tc", *props("quota:vif_inbound_average=1024"), "--format", "json")
    data = json.loads(out.stdout)
    # Nova's tap name: "tap" + the first 11 characters of the port UUID (IFNAMSIZ - 1 = 14).
    assert re.fullmatch(r"tap[0-9a-f]{8}-[0-9a-f]{2}", data["dev"])
    assert data["commands"][0] == f"tc qdisc del dev {data['dev']} root"


def test_render_tc_json(vmqos: Run) -> None:
    out = vmqos("render", "tc", *props(*SEED_INBOUND), "--dev", "tapX", "--format", "json")
    assert (out.code, out.stderr) == (0, "")
    assert json.loads(out.stdout) == {"dev": "tapX", "commands": SEED_TC_TAPX}


# --------------------------------------------------------------------------------------------
# render tc-show — the seed note's `tc ... show` text (RHEL 7 iproute 3.10) and what iproute2 6.1
# prints here (tc/q_htb.c htb_print_opt, tc/tc_util.c sprint_rate/sprint_size).

SEED_TAP = "tapbb8410ad-a0"
SEED_NORMAL_TAP = "tapb614c1d3-75"


def _seed_tc_show(vmqos: Run, vif_type: str) -> dict[str, list[str]]:
    out = vmqos("render", "tc-show", "--iproute2", "rhel7", "--profile", "pike-rhel7",
                "--vif-type", vif_type, "--dev", SEED_TAP,
                *props(*SEED_INBOUND, *SEED_OUTBOUND))
    assert (out.code, out.stderr) == (0, "")
    sections = _sections(out.stdout)
    # On an OVS port ovs-vswitchd deleted the ingress qdisc: no policer to show under ffff:.
    ingress = [] if vif_type == "ovs" else [f"tc filter show dev {SEED_TAP} parent ffff:"]
    assert list(sections) == [f"tc qdisc show dev {SEED_TAP}", f"tc class show dev {SEED_TAP}",
                              f"tc filter show dev {SEED_TAP}", *ingress]
    return sections


def test_tc_show_seed_ovs_port_class_and_filter_are_the_notes(vmqos: Run) -> None:
    sections = _seed_tc_show(vmqos, "ovs")
    for kind in ("class", "filter"):
        command = f"tc {kind} show dev {SEED_TAP}"
        assert sections[command] == note_output(command)


def test_tc_show_seed_ovs_port_qdisc_is_the_notes_without_ingress_qdisc(vmqos: Run) -> None:
    """BUG (render.py tc_show): the seed's `tc qdisc show` on its OVS port (vif `ovs`,
    pike-rhel7: libvirt shaped the tap with tc) has no `qdisc ingress ffff:` line, because
    ovs-vswitchd deletes libvirt's ingress qdisc on ports in br-int (ovs-issues #210; `vmqos
    plan` and `explain` model this). `render tc-show` prints the ingress qdisc anyway."""
    sections = _seed_tc_show(vmqos, "ovs")
    command = f"tc qdisc show dev {SEED_TAP}"
    assert [normalise_direct_packets(x) for x in sections[command]] == [
        normalise_direct_packets(x) for x in note_output(command)]


def test_tc_show_seed_values_on_hybrid_plug_keep_the_ingress_qdisc(vmqos: Run) -> None:
    """On OVS hybrid plug the tap sits in a Linux bridge (qbr), not in OVS: nothing removes
    libvirt's ingress qdisc, so it is listed after the seed's htb and sfq lines."""
    sections = _seed_tc_show(vmqos, "bridge")
    command = f"tc qdisc show dev {SEED_TAP}"
    assert [normalise_direct_packets(x) for x in sections[command]] == [
        *(normalise_direct_packets(x) for x in note_output(command)),
        "qdisc ingress ffff: parent ffff:fff1 ----------------",  # rhel7 style: rstripped
    ]
    assert sections[f"tc class show dev {SEED_TAP}"] == note_output(
        f"tc class show dev {SEED_TAP}")


def test_tc_show_seed_normal_flavor_port_is_the_notes(vmqos: Run) -> None:
    """m1.normal (no QoS) on the seed node: RHEL 7's pfifo_fast root, no class, no filter."""
    out = vmqos("render", "tc-show", "--profile", "pike-rhel7", "--vif-type", "ovs",
                "--dev", SEED_NORMAL_TAP)
    sections = _sections(out.stdout)
    for kind in ("qdisc", "class", "filter"):
        command = f"tc {kind} show dev {SEED_NORMAL_TAP}"
        assert sections[command] == note_output(command)
    assert sections[f"tc class show dev {SEED_NORMAL_TAP}"] == []


# The seed's inbound on iproute2 6.1 + a modern kernel (htb and class lines observed here, sfq
# and fw from iproute2 q_sfq.c/f_fw.c: this kernel has neither), trailing spaces included.
MODERN_SEED_SHOW = {
    "tc qdisc show dev tapX": [
        "qdisc htb 1: root refcnt 2 r2q 10 default 0x1 direct_packets_stat 0 direct_qlen 1000",
        "qdisc sfq 2: parent 1:1 limit 127p quantum 1514b depth 127 divisor 1024 perturb 10sec ",
    ],
    "tc class show dev tapX": [
        "class htb 1:1 root leaf 2: prio 0 rate 262144Kbit ceil 524288Kbit burst 128Mb "
        "cburst 1572b ",
    ],
    "tc filter show dev tapX": [
        "filter parent 1: protocol all pref 1 fw chain 0 ",
        "filter parent 1: protocol all pref 1 fw chain 0 handle 0x1 classid :1 ",
    ],
}


def test_tc_show_modern_inbound_only(vmqos: Run) -> None:
    out = vmqos("render", "tc-show", "--iproute2", "modern", *props(*SEED_INBOUND),
                "--dev", "tapX")
    assert (out.code, out.stderr) == (0, "")
    assert _sections(out.stdout) == MODERN_SEED_SHOW


def test_tc_show_modern_is_the_default_profiles_format(vmqos: Run) -> None:
    out = vmqos("render", "tc-show", *props(*SEED_INBOUND), "--dev", "tapX")
    assert _sections(out.stdout) == MODERN_SEED_SHOW


@pytest.mark.parametrize(("mtu", "quantum"), [("1450", "1464b"), ("9000", "9014b")])
def test_tc_show_sfq_quantum_follows_mtu(vmqos: Run, mtu: str, quantum: str) -> None:
    out = vmqos("render", "tc-show", *props(*SEED_INBOUND), "--dev", "tapX", "--mtu", mtu)
    assert (f"qdisc sfq 2: parent 1:1 limit 127p quantum {quantum} depth 127 divisor 1024 "
            "perturb 10sec ") in out.lines


# `tc class show` suffix after `prio 0 ` for `htb rate <A>kbps[ ceil <P>kbps][ burst <B>kb]`, as
# real tc 6.1 printed it on this host.
CLASS_SHOW = [
    ("32768", "65536", "131072", "rate 262144Kbit ceil 524288Kbit burst 128Mb cburst 1572b"),
    ("32768", None, None, "rate 262144Kbit ceil 262144Kbit burst 1572b cburst 1572b"),
    ("1024", None, None, "rate 8192Kbit ceil 8192Kbit burst 1598b cburst 1598b"),
    ("1", "2", "4", "rate 8Kbit ceil 16Kbit burst 4Kb cburst 1600b"),
    ("12500", "25000", "1250", "rate 100Mbit ceil 200Mbit burst 1250Kb cburst 1600b"),
    ("100", "200", "300", "rate 800Kbit ceil 1600Kbit burst 300Kb cburst 1600b"),
]


@pytest.mark.parametrize(("average", "peak", "burst", "suffix"), CLASS_SHOW)
def test_tc_show_class_line_as_tc_6_1_prints_it(vmqos: Run, average: str, peak: str | None,
                                     burst: str | None, suffix: str) -> None:
    specs = [f"quota:vif_inbound_average={average}"]
    specs += [f"quota:vif_inbound_peak={peak}"] if peak else []
    specs += [f"quota:vif_inbound_burst={burst}"] if burst else []
    out = vmqos("render", "tc-show", *props(*specs), "--dev", "tapX", "--format", "json")
    assert json.loads(out.stdout)["class"] == [f"class htb 1:1 root leaf 2: prio 0 {suffix} "]


def test_tc_show_json_is_the_text_by_kind(vmqos: Run) -> None:
    args = ("render", "tc-show", *props(*SEED_INBOUND, *SEED_OUTBOUND), "--dev", "tapX")
    text, data = vmqos(*args), json.loads(vmqos(*args, "--format", "json").stdout)
    sections = _sections(text.stdout)
    assert data == {**{kind: sections[f"tc {kind} show dev tapX"]
                       for kind in ("qdisc", "class", "filter")},
                    "ingress_filter": sections["tc filter show dev tapX parent ffff:"]}


def test_ovs_port_under_modern_profile_gets_no_libvirt_tc(vmqos: Run) -> None:
    """With libvirt >= 8.0 (profile `modern`) an OVS virtualport is shaped with ovs-vsctl,
    not tc (virNetDevOpenvswitchInterfaceSetQos): `render tc` prints no command (stdout stays
    one tc command per line) and says why on stderr; `render tc-show` shows no htb/sfq tree."""
    args = (*props(*SEED_INBOUND), "--dev", "tapX", "--vif-type", "ovs", "--profile", "modern")
    program = vmqos("render", "tc", *args)
    assert program.code == 0
    assert program.stdout == ""
    assert "ovs-vsctl" in program.stderr and "render ovs-libvirt" in program.stderr
    show = vmqos("render", "tc-show", *args)
    assert not [line for line in show.lines if line.startswith("qdisc sfq 2:")], show.stdout


# --------------------------------------------------------------------------------------------
# render ovs-libvirt — libvirt's unit-test vectors, OVS variant (VM UUID c1018351-...), and the
# OVS port of a flavor with the seed's inbound (virNetDevOpenvswitchInterfaceSetQos).

def _ids(dev: str, uuid: str = VM_UUID) -> str:
    return f"'external-ids:vm-id=\"{uuid}\"' 'external-ids:ifname=\"{dev}\"'"


def _finds(dev: str) -> list[str]:
    return [f"ovs-vsctl --timeout=5 --no-heading --columns=_uuid find {table} {_ids(dev)}"
            for table in ("queue", "qos")]


def _set_qos(dev: str, other_config: str) -> str:
    return (f"ovs-vsctl --timeout=5 set port {dev} qos=@qos1 {_ids(dev)} -- --id=@qos1 create "
            f"qos type=linux-htb {other_config} queues:0=@queue0 {_ids(dev)} -- --id=@queue0 "
            f"create queue {other_config} {_ids(dev)}")


OVS_LIBVIRT_VECTORS: dict[str, tuple[tuple[str, ...], str, list[str]]] = {
    # libvirt's own vectors (tests/virnetdevbandwidthtest.c, OVS variant) on eth0.
    **{f"libvirt {v.name}": (v.properties, DEV, list(v.ovs))
       for v in LIBVIRT_VECTORS if v.element},
    "OVS port, seed inbound, outbound 32768/-/131072": (
        (*SEED_INBOUND, "quota:vif_outbound_average=32768", "quota:vif_outbound_burst=131072"),
        "IF", [
            *_finds("IF"),
            _set_qos("IF", "other_config:min-rate=262144000 other_config:burst=1073741824 "
                           "other_config:max-rate=524288000"),
            "ovs-vsctl --timeout=5 set Interface IF ingress_policing_rate=262144 "
            "ingress_policing_burst=1048576",
        ]),
}


@pytest.mark.parametrize("case", OVS_LIBVIRT_VECTORS)
def test_render_ovs_libvirt_vectors(vmqos: Run, case: str) -> None:
    properties, dev, expected = OVS_LIBVIRT_VECTORS[case]
    out = vmqos("render", "ovs-libvirt", *props(*properties), "--dev", dev)
    assert (out.code, out.stderr) == (0, "")
    assert out.lines == expected
    data = json.loads(vmqos("render", "ovs-libvirt", *props(*properties), "--dev", dev,
                            "--format", "json").stdout)
    assert data == {"dev": dev, "commands": expected}


def test_render_ovs_libvirt_vm_uuid(vmqos: Run) -> None:
    uuid = "850724a4-029c-457b-a99d-3a18e8e413da"
    out = vmqos("render", "ovs-libvirt", *props("quota:vif_outbound_average=1024"),
                "--dev", "eth0", "--vm-uuid", uuid)
    assert out.lines[0] == ("ovs-vsctl --timeout=5 --no-heading --columns=_uuid find queue "
                            + _ids("eth0", uuid))


# --------------------------------------------------------------------------------------------
# render domain-xml — Nova's fragments (nova tests/unit/virt/libvirt test_config.py,
# test_vif.py), the seed's <cputune>/<bandwidth> text.

CPU_SPECS = ("quota:cpu_shares=2048", "quota:cpu_period=100000", "quota:cpu_quota=50000")
VIF_SPECS = ("quota:vif_inbound_average=100", "quota:vif_inbound_peak=200",
             "quota:vif_inbound_burst=300", "quota:vif_outbound_average=10",
             "quota:vif_outbound_peak=20", "quota:vif_outbound_burst=30")


def test_domain_xml_nova_form_fragments(vmqos: Run) -> None:
    out = vmqos("render", "domain-xml", *props(*CPU_SPECS, *SEED_DISK, *VIF_SPECS))
    assert (out.code, out.stderr) == (0, "")
    ET.fromstring(out.stdout)  # well-formed
    flat = _collapsed(out.stdout)
    assert ("<cputune><shares>2048</shares><quota>50000</quota><period>100000</period>"
            "</cputune>") in flat
    assert ("<iotune><read_bytes_sec>1000000</read_bytes_sec><write_bytes_sec>1024000"
            "</write_bytes_sec></iotune>") in flat
    assert ('<bandwidth><inbound average="100" peak="200" burst="300"/><outbound average="10" '
            'peak="20" burst="30"/></bandwidth>') in flat
    assert '<interface type="bridge">' in flat  # OVS hybrid plug (the default vif type)


def test_domain_xml_libvirt_form_matches_the_seed_text(vmqos: Run) -> None:
    """`--form libvirt` is what `virsh dumpxml` shows: the seed's own lines, single quotes."""
    out = vmqos("render", "domain-xml", "--form", "libvirt", "--profile", "pike-rhel7",
                "--vif-type", "ovs", "--dev", SEED_TAP,
                *props("quota:cpu_shares=512", *SEED_DISK, *SEED_INBOUND, *SEED_OUTBOUND))
    assert (out.code, out.stderr) == (0, "")
    ET.fromstring(out.stdout)
    assert "  <cputune>\n    <shares>512</shares>\n  </cputune>\n" in out.stdout
    assert ("      <iotune>\n"
            "        <read_bytes_sec>1000000</read_bytes_sec>\n"
            "        <write_bytes_sec>1024000</write_bytes_sec>\n"
            "      </iotune>\n") in out.stdout
    assert ("      <virtualport type='openvswitch'>\n"
            "        <parameters interfaceid='") in out.stdout
    assert ("      <bandwidth>\n"
            "        <inbound average='32768' peak='65536' burst='131072'/>\n"
            "        <outbound average='32768' peak='65536' burst='131072'/>\n"
            "      </bandwidth>\n"
            "      <target dev='tapbb8410ad-a0'/>\n") in out.stdout


@pytest.mark.parametrize(("options", "cputune"), [
    (("--profile", "pike-rhel7"), "<cputune><shares>1024</shares></cputune>"),
    (("--profile", "pike-rhel7", "--vcpus", "4"), "<cputune><shares>4096</shares></cputune>"),
    (("--profile", "modern", "--vcpus", "4"), None),
    ((), None),
])
def test_domain_xml_default_cpu_shares_per_profile(vmqos: Run, options: tuple[str, ...],
                                                   cputune: str | None) -> None:
    """Nova Kilo–Yoga writes 1024 × vCPUs when the flavor has no quota:cpu_shares (bug
    1383377); current Nova writes no <cputune> (bug 1978489, Zed 26.0.0)."""
    for form in ("nova", "libvirt"):
        out = vmqos("render", "domain-xml", "--form", form, *options)
        assert out.code == 0
        flat = _collapsed(out.stdout)
        if cputune is None:
            assert "<cputune" not in flat
        else:
            assert cputune in flat


@pytest.mark.parametrize(("specs", "vif_type", "fragment"), [
    (("quota:vif_inbound_average=0",), "bridge", '<bandwidth><inbound average="0"/></bandwidth>'),
    (("quota:vif_inbound_peak=200",), "bridge", None),
    (VIF_SPECS, "vhostuser", None),
    (VIF_SPECS, "hostdev", None),
    (("quota:vif_inbound_average=0",), "hw_veb", '<bandwidth><inbound average="0"/></bandwidth>'),
])
def test_domain_xml_bandwidth_vectors(vmqos: Run, specs: tuple[str, ...], vif_type: str,
                                      fragment: str | None) -> None:
    out = vmqos("render", "domain-xml", *props(*specs), "--vif-type", vif_type)
    assert out.code == 0
    flat = _collapsed(out.stdout)
    if fragment is None:
        assert "<bandwidth" not in flat
    else:
        assert fragment in flat


# --------------------------------------------------------------------------------------------
# render qemu-argv / qmp — the seed's -drive option; libvirt's QMP block_set_io_throttle.

QMP_KEYS = {"bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr", "bps_max", "bps_rd_max",
            "bps_wr_max", "iops_max", "iops_rd_max", "iops_wr_max", "iops_size"}


def _instance_path_neutral(drive: str) -> str:
    return re.sub(r"/instances/[0-9a-f-]{36}/", "/instances/<uuid>/", drive)


@pytest.mark.parametrize("options", [("--legacy",), ("--profile", "pike-rhel7")])
def test_qemu_argv_legacy_is_the_seed_drive_option(vmqos: Run, options: tuple[str, ...]) -> None:
    out = vmqos("render", "qemu-argv", *options, *props(*SEED_DISK))
    assert (out.code, out.stderr) == (0, "")
    assert len(out.lines) == 1
    assert "throttling.bps-read=1000000,throttling.bps-write=1024000" in out.lines[0]
    # Same option as the seed's QEMU command line, but for the render's own instance UUID.
    assert _instance_path_neutral(out.lines[0]) == _instance_path_neutral(
        "-drive " + qemu_drive_option("m1.resquota"))


def test_qemu_argv_blockdev_era_has_no_throttling_in_argv(vmqos: Run) -> None:
    """With -blockdev, `virsh domxml-to-native qemu-argv` shows no `throttling.` (observed
    with libvirt 9.0 + QEMU 7.2: qemuProcessSetupDiskThrottling sends it over QMP)."""
    out = vmqos("render", "qemu-argv", "--no-legacy", *props(*SEED_DISK))
    assert out.code == 0
    assert not [line for line in out.lines if "throttling." in line]
    data = json.loads(vmqos("render", "qemu-argv", "--no-legacy", *props(*SEED_DISK),
                            "--format", "json").stdout)
    assert data["drive"] == []
    assert [c["execute"] for c in data["qmp"]] == ["block_set_io_throttle"]


def test_qemu_argv_json(vmqos: Run) -> None:
    out = vmqos("render", "qemu-argv", "--legacy", *props(*SEED_DISK), "--format", "json")
    text = vmqos("render", "qemu-argv", "--legacy", *props(*SEED_DISK))
    assert json.loads(out.stdout) == {"drive": [text.lines[0].removeprefix("-drive ")]}


def test_qmp_has_all_thirteen_throttle_keys(vmqos: Run) -> None:
    out = vmqos("render", "qmp", *props(*SEED_DISK), "--format", "json")
    assert (out.code, out.stderr) == (0, "")
    (command,) = json.loads(out.stdout)
    assert command["execute"] == "block_set_io_throttle"
    arguments = command["arguments"]
    assert set(arguments) - {"id", "device"} == QMP_KEYS
    assert arguments["id"] == "/machine/peripheral/virtio-disk0/virtio-backend"
    assert (arguments["bps_rd"], arguments["bps_wr"]) == (1000000, 1024000)
    assert all(arguments[k] == 0 for k in QMP_KEYS - {"bps_rd", "bps_wr"})
    # Text form: one compact JSON command per line, the same data.
    text = vmqos("render", "qmp", *props(*SEED_DISK))
    assert [json.loads(line) for line in text.lines] == [command]


def test_qmp_without_disk_limits_sends_nothing(vmqos: Run) -> None:
    out = vmqos("render", "qmp", *props("quota:cpu_shares=512"))
    assert (out.code, out.stdout) == (0, "")
    assert json.loads(vmqos("render", "qmp", "--format", "json").stdout) == []


# --------------------------------------------------------------------------------------------
# render cgroup — the seed's cpu.shares path; libvirt's writes (vircgroupv1.c, vircgroupv2.c).


@pytest.mark.parametrize(("domain_id", "name", "specs", "path", "value"), [
    (10, "instance-00000041", ("quota:cpu_shares=512",),  # vm_resquota
     r"/sys/fs/cgroup/cpu/machine.slice/machine-qemu\x2d10\x2dinstance\x2d00000041.scope/cpu.shares",
     "512"),
    (11, "instance-00000042", (),  # vm_normal: Nova Pike's default 1024 × 1 vCPU
     r"/sys/fs/cgroup/cpu/machine.slice/machine-qemu\x2d11\x2dinstance\x2d00000042.scope/cpu.shares",
     "1024"),
])
def test_cgroup_seed_path_and_value(vmqos: Run, domain_id: int, name: str,
                                    specs: tuple[str, ...], path: str, value: str) -> None:
    # The note's shell command doubles the backslashes; the file has single ones.
    assert note_output("cat " + path.replace("\\", "\\\\")) == [value]
    args = ("render", "cgroup", "--profile", "pike-rhel7", "--domain-id", str(domain_id),
            "--name", name, *props(*specs))
    out = vmqos(*args)
    assert (out.code, out.stderr) == (0, "")
    assert out.lines == [f"echo {value} > '{path}'"]
    data = json.loads(vmqos(*args, "--format", "json").stdout)
    assert data == [{"path": path.removesuffix("/cpu.shares"), "file": "cpu.shares",
                     "value": value}]


def test_cgroup_v1_no_systemd_as_libvirt_9_0_writes(vmqos: Run) -> None:
    out = vmqos("render", "cgroup", "--cgroup", "v1", "--no-systemd", "--vcpus", "2",
                "--domain-id", "4", "--name", "instance-00000041", *props(*CPU_SPECS))
    base = "/sys/fs/cgroup/cpu/machine/qemu-4-instance-00000041.libvirt-qemu"
    assert out.lines == [
        f"echo 2048 > {base}/cpu.shares",
        f"echo 100000 > {base}/vcpu0/cpu.cfs_period_us",
        f"echo 50000 > {base}/vcpu0/cpu.cfs_quota_us",
        f"echo 100000 > {base}/vcpu1/cpu.cfs_period_us",
        f"echo 50000 > {base}/vcpu1/cpu.cfs_quota_us",
    ]


def test_cgroup_v2_no_systemd_writes_weight_and_cpu_max(vmqos: Run) -> None:
    """v2 (libvirt vircgroupv2.c): shares verbatim into cpu.weight; period then quota into each
    vCPU's cpu.max, which ends as `50000 100000`."""
    out = vmqos("render", "cgroup", "--cgroup", "v2", "--no-systemd", "--vcpus", "2",
                *props(*CPU_SPECS))
    base = "/sys/fs/cgroup/machine/qemu-1-instance-00000001.libvirt-qemu"
    assert out.lines == [
        f"echo 2048 > {base}/cpu.weight",
        f"echo 'max 100000' > {base}/vcpu0/cpu.max",
        f"echo 50000 > {base}/vcpu0/cpu.max",
        f"echo 'max 100000' > {base}/vcpu1/cpu.max",
        f"echo 50000 > {base}/vcpu1/cpu.max",
    ]


def test_cgroup_v2_systemd_sets_cpuweight_on_the_machine_scope(vmqos: Run) -> None:
    out = vmqos("render", "cgroup", "--cgroup", "v2", *props("quota:cpu_shares=2048",
                                                              "quota:cpu_quota=50000"))
    scope = "machine-qemu\\x2d1\\x2dinstance\\x2d00000001.scope"
    assert out.lines == [
        f"systemctl set-property --runtime '{scope}' CPUWeight=2048",
        f"echo 50000 > '/sys/fs/cgroup/machine.slice/{scope}/libvirt/vcpu0/cpu.max'",
    ]
    data = json.loads(vmqos("render", "cgroup", "--cgroup", "v2",
                            *props("quota:cpu_shares=2048"), "--format", "json").stdout)
    assert data == [{"unit": scope, "name": "CPUWeight", "value": 2048}]


def test_cgroup_shares_policy_systemd_maps_to_weight(vmqos: Run) -> None:
    out = vmqos("render", "cgroup", "--cgroup", "v2", "--shares-policy", "systemd",
                *props("quota:cpu_shares=2048"))
    assert out.lines[0].endswith(" CPUWeight=200")  # clamp(2048*100/1024, 1, 10000)


# --------------------------------------------------------------------------------------------
# render neutron — each agent's QoS driver: OVS (ml2/drivers/openvswitch/agent/extension_drivers/
# qos_driver.py), Linux bridge (agent/linux/tc_lib.py), SR-IOV (mech_sriov qos_driver.py), OVN
# (ovn/mech_driver/ovsdb/extensions/qos.py).


def _neutron_raw(vmqos: Run, backend: str, *rules: str,
                 options: tuple[str, ...] = ()) -> Outcome:
    out = vmqos("render", "neutron", "--backend", backend,
                *[arg for rule in rules for arg in ("--rule", rule)], "--dev", "tapX", *options)
    assert (out.code, out.stderr) == (0, ""), out.stderr
    return out


def _neutron(vmqos: Run, backend: str, *rules: str, options: tuple[str, ...] = ()) -> Outcome:
    """The commands only: the trailing '# note:' lines are checked on their own below."""
    out = _neutron_raw(vmqos, backend, *rules, options=options)
    if "--format" in options:
        return out
    kept = [line for line in out.lines if not line.startswith("# note: ")]
    return Outcome(out.code, "".join(f"{line}\n" for line in kept), out.stderr)


@pytest.mark.parametrize(("rule", "rate", "burst"), [
    ("bandwidth_limit:max_kbps=3000,max_burst_kbps=300", 3000, 300),
    ("bandwidth_limit:max_kbps=3000", 3000, 2400),  # 80 % of the rate
    ("bandwidth_limit:max_kbps=1000", 1000, 800),
    ("bandwidth_limit:max_kbps=1001", 1001, 800),  # int(800.8)
    ("bandwidth_limit:max_kbps=10000", 10000, 8000),
    ("bandwidth_limit:max_kbps=1", 1, 0),  # OVS then applies its 8000 kbit default
    ("bandwidth_limit:max_kbps=0", 0, 0),
    # rate 0 disables OVS policing whatever the burst; the agent writes the burst as given
    ("bandwidth_limit:max_kbps=0,max_burst_kbps=300", 0, 300),
])
def test_neutron_ovs_egress_policing(vmqos: Run, rule: str, rate: int, burst: int) -> None:
    out = _neutron(vmqos, "ovs", rule)
    assert out.lines == [f"ovs-vsctl set Interface tapX ingress_policing_rate={rate} "
                         f"ingress_policing_burst={burst}"]


def _other_config(line: str) -> dict[str, str]:
    # ovs-vsctl treats `-` and `_` in column names alike: accept other_config / other-config.
    return dict(re.findall(r"other[-_]config:([\w-]+)=(\d+)", line))


@pytest.mark.parametrize(("rule", "max_rate", "burst"), [
    ("bandwidth_limit:max_kbps=700,max_burst_kbps=70,direction=ingress", "700000", "70000"),
    ("bandwidth_limit:max_kbps=750,max_burst_kbps=100,direction=ingress", "750000", "100000"),
    ("bandwidth_limit:max_kbps=3000,direction=ingress", "3000000", "0"),  # no 80 % default
])
def test_neutron_ovs_ingress_linux_htb_queue(vmqos: Run, rule: str, max_rate: str,
                                             burst: str) -> None:
    out = _neutron(vmqos, "ovs", rule)
    (qos,) = [line for line in out.lines if "type=linux-htb" in line]
    queue_part = qos[qos.index("create Queue"):]
    assert _other_config(queue_part) == {"max-rate": max_rate, "burst": burst}
    assert _other_config(qos[:qos.index("create Queue")]) == {"max-rate": "34359738367"}
    assert ("ovs-ofctl add-flow br-int 'table=0, priority=200,reg3=0 actions=set_queue:0,"
            "load:0x1->NXM_NX_REG3[0],resubmit(,0)'") in out.lines


@pytest.mark.parametrize(("mark", "tos"), [("26", "104"), ("46", "184"), ("56", "224"),
                                           ("8", "32"), ("0", "0")])
def test_neutron_ovs_dscp_flows(vmqos: Run, mark: str, tos: str) -> None:
    out = _neutron(vmqos, "ovs", f"dscp_marking:dscp_mark={mark}")
    flows = [line for line in out.lines if "mod_nw_tos" in line]
    assert len(flows) == 2  # IPv4 and IPv6
    assert sorted(re.findall(r"priority=65535,(ipv6|ip),", " ".join(flows))) == ["ip", "ipv6"]
    for flow in flows:
        assert "table=0, priority=65535," in flow
        assert "reg2=0" in flow
        assert re.search(r"\bin_port=\d+", flow)
        assert f"mod_nw_tos:{tos}," in flow


def test_neutron_ovs_packet_rate_meters(vmqos: Run) -> None:
    egress = _neutron(vmqos, "ovs", "packet_rate_limit:max_kpps=1000,max_burst_kpps=100")
    assert any(re.search(r"add-meter br-int meter=\d+,pktps,burst,band=type=drop,"
                         r"rate=1000000,burst_size=100000$", line) for line in egress.lines)
    ingress = _neutron(vmqos, "ovs", "packet_rate_limit:max_kpps=1000,direction=ingress")
    assert any(re.search(r"add-meter br-int meter=\d+,pktps,band=type=drop,rate=1000000$", line)
               for line in ingress.lines)


def test_neutron_ovs_packet_rate_flows_match_the_port_mac(vmqos: Run) -> None:
    """BUG (render.py neutron): the PortContext built by `render neutron` has no MAC, so the
    meter flows come out as `dl_src= actions=...` / `dl_dst= actions=...`, which ovs-ofctl
    rejects. The OVS agent's packet-rate flows (table 58): egress matches
    `in_port=<ofport>,dl_src=<mac>`, ingress `dl_vlan=<local vlan>,dl_dst=<mac>`."""
    mac = r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}"
    egress = _neutron(vmqos, "ovs", "packet_rate_limit:max_kpps=1000,max_burst_kpps=100")
    (flow,) = [line for line in egress.lines if "table=58" in line]
    assert re.search(rf"in_port=\d+,dl_src={mac} actions=meter:\d+,goto_table:59", flow), flow
    ingress = _neutron(vmqos, "ovs", "packet_rate_limit:max_kpps=1000,direction=ingress")
    (flow,) = [line for line in ingress.lines if "table=58" in line]
    assert re.search(rf"dl_vlan=\d+,dl_dst={mac} actions=meter:\d+,goto_table:59", flow), flow


def test_neutron_ovs_minimum_bandwidth(vmqos: Run) -> None:
    physnet = _neutron(vmqos, "ovs", "minimum_bandwidth:min_kbps=1000",
                       options=("--physical-network", "physnet1"))
    marks = [line for line in physnet.lines if "NXM_NX_PKT_MARK" in line]
    assert len(marks) == 1
    (ofport,) = re.findall(r"in_port=(\d+)", marks[0])
    # The OVS agent's minimum-bandwidth queue number and packet mark are the port's ofport.
    assert (f"priority=200,reg4=0,in_port={ofport} actions=load:{int(ofport):#x}->"
            f"NXM_NX_PKT_MARK[],load:0x1->NXM_NX_REG4[0],resubmit(,0)") in marks[0]
    tunnelled = _neutron(vmqos, "ovs", "minimum_bandwidth:min_kbps=1000",
                         options=("--network-type", "geneve"))
    assert not [line for line in tunnelled.lines if "PKT_MARK" in line or "min-rate" in line]


def _kbit_to_bytes(text: str) -> float:
    return float(text) * 1000 / 8


@pytest.mark.parametrize(("rule", "rate_bps", "burst_bytes"), [
    ("bandwidth_limit:max_kbps=3000,max_burst_kbps=300", 375000, 37500),
    ("bandwidth_limit:max_kbps=3000", 375000, 300000),  # burst 2400 kbit
])
def test_neutron_linuxbridge_egress_police(vmqos: Run, rule: str, rate_bps: int,
                                           burst_bytes: int) -> None:
    out = _neutron(vmqos, "linuxbridge", rule)
    (police,) = [line for line in out.lines if " police " in line]
    match = re.search(r"parent ffff: protocol all prio 49 \S+ police rate ([\d.]+)kbit "
                      r"burst ([\d.]+)kbit mtu 65535 drop$", police)
    assert match, police
    assert _kbit_to_bytes(match.group(1)) == rate_bps
    assert _kbit_to_bytes(match.group(2)) == burst_bytes


@pytest.mark.parametrize(("rule", "burst_bytes"), [
    ("bandwidth_limit:max_kbps=10000,direction=ingress", 5000),  # 40 kbit (HZ=250)
    ("bandwidth_limit:max_kbps=10000,max_burst_kbps=1500,direction=ingress", 187500),
])
def test_neutron_linuxbridge_ingress_tbf(vmqos: Run, rule: str, burst_bytes: int) -> None:
    out = _neutron(vmqos, "linuxbridge", rule)
    (tbf,) = out.lines
    match = re.fullmatch(r"tc qdisc replace dev tapX root tbf rate ([\d.]+)kbit latency 50ms "
                         r"burst ([\d.]+)kbit", tbf)
    assert match, tbf
    assert _kbit_to_bytes(match.group(1)) == 1250000
    assert _kbit_to_bytes(match.group(2)) == burst_bytes


@pytest.mark.parametrize(("mark", "hex_mark"), [("26", "0x1a"), ("8", "0x08")])
def test_neutron_linuxbridge_dscp(vmqos: Run, mark: str, hex_mark: str) -> None:
    out = _neutron(vmqos, "linuxbridge", f"dscp_marking:dscp_mark={mark}")
    marking = [line for line in out.lines if "-j DSCP" in line]
    assert [line.split()[0] for line in marking] == ["iptables", "ip6tables"]
    assert all(line.endswith(f"-j DSCP --set-dscp {hex_mark}") for line in marking)


@pytest.mark.parametrize(("kbps", "mbps"), [
    (0, 0), (99, 1), (999, 1), (1000, 1), (1499, 1), (1500, 2), (2000, 2), (2001, 2),
    (2499, 2), (2500, 3), (3000, 3), (10000, 10),
])
def test_neutron_sriov_max_tx_rate(vmqos: Run, kbps: int, mbps: int) -> None:
    out = _neutron(vmqos, "sriov", f"bandwidth_limit:max_kbps={kbps},max_burst_kbps=100")
    assert out.lines == [f"ip link set dev eth1 vf 0 max_tx_rate {mbps} min_tx_rate 0"]


def test_neutron_sriov_min_tx_rate(vmqos: Run) -> None:
    out = _neutron(vmqos, "sriov", "minimum_bandwidth:min_kbps=1500")
    assert out.lines == ["ip link set dev eth1 vf 0 max_tx_rate 0 min_tx_rate 2"]


_LSP = re.compile(r"'(in|out)port == \"([0-9a-f-]{36})\"'")


def test_neutron_ovn_geneve_bandwidth_and_dscp_is_one_qos_row(vmqos: Run) -> None:
    out = _neutron(vmqos, "ovn", "bandwidth_limit:max_kbps=3000,max_burst_kbps=300",
                   "dscp_marking:dscp_mark=26", options=("--network-type", "geneve"))
    (row,) = out.lines
    match = _LSP.search(row)
    assert match and match.group(1) == "in"
    assert row == (f"ovn-nbctl qos-add neutron-net from-lport 2002 '{match.group(0)[1:-1]}' "
                   "rate=3000 burst=300 dscp=26")


def test_neutron_ovn_ingress_has_no_burst_key(vmqos: Run) -> None:
    out = _neutron(vmqos, "ovn", "bandwidth_limit:max_kbps=5000,direction=ingress",
                   options=("--network-type", "geneve"))
    (row,) = out.lines
    assert re.fullmatch(r"ovn-nbctl qos-add neutron-net to-lport 2002 "
                        r"'outport == \"[0-9a-f-]{36}\"' rate=5000", row), row


def test_neutron_ovn_dscp_only(vmqos: Run) -> None:
    out = _neutron(vmqos, "ovn", "dscp_marking:dscp_mark=26", options=("--network-type", "geneve"))
    (row,) = out.lines
    assert row.startswith("ovn-nbctl qos-add neutron-net from-lport 2002 ")
    assert row.endswith(" dscp=26")
    assert "rate=" not in row


def test_neutron_ovn_geneve_minimum_bandwidth_changes_nothing(vmqos: Run) -> None:
    out = _neutron(vmqos, "ovn", "minimum_bandwidth:min_kbps=1000",
                   options=("--network-type", "geneve"))
    assert out.stdout == ""


def test_neutron_ovn_vlan_bandwidth_and_minimum_go_to_lsp_options(vmqos: Run) -> None:
    out = _neutron(vmqos, "ovn", "bandwidth_limit:max_kbps=3000,max_burst_kbps=300",
                   "minimum_bandwidth:min_kbps=1000", options=("--network-type", "vlan"))
    assert not [line for line in out.lines if "qos-add" in line and "rate=" in line]
    (options,) = [line for line in out.lines if "options:qos_max_rate" in line]
    assert dict(re.findall(r"options:(qos_\w+)=(\d+)", options)) == {
        "qos_max_rate": "3000000", "qos_burst": "300000", "qos_min_rate": "1000000"}


def test_neutron_ovn_vlan_bandwidth_only_is_a_qos_row(vmqos: Run) -> None:
    out = _neutron(vmqos, "ovn", "bandwidth_limit:max_kbps=3000,max_burst_kbps=300",
                   options=("--network-type", "vlan"))
    (row,) = [line for line in out.lines if "qos-add" in line]
    assert row.endswith(" rate=3000 burst=300")
    (cleared,) = [line for line in out.lines if "qos-add" not in line]
    assert cleared.startswith("ovn-nbctl remove Logical_Switch_Port ")
    assert cleared.endswith(" options qos_max_rate qos_burst qos_min_rate")


def test_neutron_ovn_zero_rate_is_rejected(vmqos: Run) -> None:
    out = vmqos("render", "neutron", "--backend", "ovn", "--rule", "bandwidth_limit:max_kbps=0")
    assert_user_error(out.code, out.stderr, "rate(0) must be between 1 and 4294967295, inclusive")


@pytest.mark.parametrize(("backend", "name"), [("ovs", "ovs"), ("ovn", "ovn"),
                                               ("sriov", "sriovnicswitch"),
                                               ("linuxbridge", "linuxbridge")])
def test_neutron_json(vmqos: Run, backend: str, name: str) -> None:
    rule = "bandwidth_limit:max_kbps=3000,max_burst_kbps=300"
    text = _neutron_raw(vmqos, backend, rule).lines
    data = json.loads(_neutron(vmqos, backend, rule, options=("--format", "json")).stdout)
    assert data == {"backend": name,
                    "commands": [line for line in text if not line.startswith("# note: ")],
                    "notes": [line[8:] for line in text if line.startswith("# note: ")]}


def test_neutron_rule_errors_are_neutrons(vmqos: Run) -> None:
    out = vmqos("render", "neutron", "--backend", "ovs",
                "--rule", "bandwidth_limit:max_kbps=1000",
                "--rule", "bandwidth_limit:max_kbps=2000")
    message = assert_user_error(out.code, out.stderr, "bandwidth_limit")
    assert re.fullmatch(r"Rule bandwidth_limit conflicts with rule .+ which already exists in "
                        r"QoS Policy \S+\.", message), message


# --------------------------------------------------------------------------------------------
# --format json for every subcommand, the exit-code contract, bad input, --help.

JSON_CASES: dict[str, tuple[str, ...]] = {
    "domain-xml": ("render", "domain-xml", *props("quota:cpu_shares=512", *SEED_INBOUND)),
    "qemu-argv": ("render", "qemu-argv", "--legacy", *props(*SEED_DISK)),
    "qmp": ("render", "qmp", *props(*SEED_DISK)),
    "cgroup": ("render", "cgroup", "--profile", "pike-rhel7", *props("quota:cpu_shares=512")),
    "tc": ("render", "tc", *props(*SEED_INBOUND, *SEED_OUTBOUND)),
    "tc-show": ("render", "tc-show", *props(*SEED_INBOUND, *SEED_OUTBOUND)),
    "ovs-libvirt": ("render", "ovs-libvirt", *props(*SEED_INBOUND, *SEED_OUTBOUND)),
    "neutron": ("render", "neutron", "--backend", "ovs", "--rule", "dscp_marking:dscp_mark=26"),
}


def _text_from_json(subcommand: str, data: object) -> list[str]:
    """Rebuild the text output from the JSON document: the same data, two encodings."""
    match subcommand, data:
        case "domain-xml", {"xml": str(xml)}:
            return xml.rstrip("\n").splitlines()
        case "qemu-argv", {"drive": list(options)}:
            return [f"-drive {o}" for o in options]
        case "qmp", list(commands):
            return [json.dumps(c, separators=(",", ":")) for c in commands]
        case "cgroup", list(writes):
            return [f"echo {w['value']} > '{w['path']}/{w['file']}'" for w in writes]
        case "tc" | "ovs-libvirt" | "neutron", {"commands": list(commands)}:
            return commands
        case "tc-show", {"qdisc": list(q), "class": list(c), "filter": list(f), **rest}:
            ingress = rest.get("ingress_filter", [])
            return [line for section in (q, c, f, ingress) for line in section]
    raise AssertionError(f"unexpected JSON shape for {subcommand}: {data!r}")


@pytest.mark.parametrize("subcommand", RENDER_SUBCOMMANDS)
def test_every_render_subcommand_json_carries_the_text_data(vmqos: Run, subcommand: str) -> None:
    args = JSON_CASES[subcommand]
    text = vmqos(*args)
    out = vmqos(*args, "--format", "json")
    assert (out.code, out.stderr) == (0, "")
    expected = [line for line in text.lines if not line.startswith("$ ")]
    assert _text_from_json(subcommand, json.loads(out.stdout)) == expected
    assert expected  # each case renders something


# One user error per subcommand, through the installed entry point.
USER_ERRORS: dict[str, tuple[tuple[str, ...], str]] = {
    **{sub: (("render", sub, "--property", "quota:cpu_shares=-1"),
             "Validation failed; '-1' is less than the min value of '0'.")
       for sub in RENDER_SUBCOMMANDS if sub != "neutron"},
    "neutron": (("render", "neutron", "--backend", "ovs", "--rule", "dscp_marking:dscp_mark=3"),
                "Invalid input for dscp_mark. Reason: 3 is not in valid_values."),
}


@pytest.fixture(scope="module")
def user_error_procs(run_vmqos: Proc) -> dict[str, subprocess.CompletedProcess[str]]:
    """USER_ERRORS run through the installed entry point, two at a time (~0.3 s each)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = pool.map(lambda args: run_vmqos(*args), [a for a, _ in USER_ERRORS.values()])
        return dict(zip(USER_ERRORS, procs, strict=True))


@pytest.mark.parametrize("subcommand", RENDER_SUBCOMMANDS)
def test_user_error_exit_2_one_line_through_the_real_process(
        user_error_procs: dict[str, subprocess.CompletedProcess[str]], subcommand: str) -> None:
    proc = user_error_procs[subcommand]
    _, message = USER_ERRORS[subcommand]
    assert assert_user_error(proc.returncode, proc.stderr) == message
    assert proc.stdout == ""


@pytest.mark.parametrize(("args", "needles"), [
    (("render", "tc", "--property", "noequals"), ("--property", "'noequals'", "KEY=VALUE")),
    (("render", "tc", "--property", "=512"), ("--property", "'=512'")),
    (("render", "tc", "--property", "quota:vif_inbound_average=abc"), ("'abc'",)),
    (("render", "domain-xml", "--property", "quota:vif_inbound_floor=10"),
     ("'quota:vif_inbound_floor'",)),
    (("render", "neutron", "--backend", "ovs", "--rule", "bandwidth_limit"),
     ("'bandwidth_limit'", "TYPE:")),
    (("render", "neutron", "--backend", "ovs", "--rule", "bogus:x=1"), ("'bogus'",)),
])
def test_bad_values_are_one_line_user_errors(vmqos: Run, args: tuple[str, ...],
                                             needles: tuple[str, ...]) -> None:
    out = vmqos(*args)
    assert_user_error(out.code, out.stderr, *needles)
    assert out.stdout == ""


CLICK_USAGE_ERRORS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "unknown --vif-type": (("render", "tc", "--vif-type", "bogus"), ("--vif-type", "bogus")),
    "--mtu out of range": (("render", "tc-show", "--mtu", "10"), ("--mtu", "10")),
    "missing --backend": (("render", "neutron", "--rule", "dscp_marking:dscp_mark=26"),
                          ("--backend",)),
    "unknown --profile": (("render", "cgroup", "--profile", "nope"), ("--profile", "nope")),
}


@pytest.mark.parametrize("case", CLICK_USAGE_ERRORS)
def test_click_usage_errors_are_one_vmqos_error_line(vmqos: Run, case: str) -> None:
    """BUG (main.py, `except click.ClickException`: `exc.show()`): option errors click itself
    detects (unknown --vif-type, out-of-range --mtu, missing --backend) print click's
    four-line `Usage: … / Try … / (blank) / Error: …` block instead of the one
    `vmqos: error: …` line every other user error gets. Exit 2 and no traceback already hold."""
    args, needles = CLICK_USAGE_ERRORS[case]
    out = vmqos(*args)
    assert out.code == 2
    assert "Traceback" not in out.stderr
    assert_user_error(out.code, out.stderr, *needles)


def test_unknown_vif_type_through_the_real_process(run_vmqos: Proc) -> None:
    """The same BUG as above, seen by a script: exit 2 holds, the one-line message does not."""
    proc = run_vmqos("render", "tc", "--vif-type", "bogus")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert_user_error(proc.returncode, proc.stderr, "--vif-type", "bogus")


def _has_example(help_text: str, command: str) -> bool:
    return re.search(rf"^\s+{re.escape(command)}(\s|$)", help_text, re.MULTILINE) is not None


def test_render_group_help_shows_examples(vmqos: Run) -> None:
    out = vmqos("render", "--help")
    assert out.code == 0
    for subcommand in ("tc", "tc-show", "domain-xml", "neutron"):
        assert _has_example(out.stdout, f"vmqos render {subcommand}"), subcommand


@pytest.mark.parametrize("subcommand", RENDER_SUBCOMMANDS)
def test_render_subcommand_help_exits_0(vmqos: Run, subcommand: str) -> None:
    out = vmqos("render", subcommand, "--help")
    assert (out.code, out.stderr) == (0, "")
    assert out.stdout.startswith(f"Usage: vmqos render {subcommand} [OPTIONS]")
    assert "--format" in out.stdout


@pytest.mark.parametrize("subcommand", RENDER_SUBCOMMANDS)
def test_render_subcommand_help_shows_an_example(vmqos: Run, subcommand: str) -> None:
    """BUG (render.py docstrings): the README promises "Every command has `--help` with
    examples"; only the `render` group's help has them, none of its subcommands'."""
    out = vmqos("render", subcommand, "--help")
    assert _has_example(out.stdout, f"vmqos render {subcommand}"), out.stdout


def test_neutron_notes_are_shell_comments_after_the_commands(vmqos: Run) -> None:
    # ML2/OVN does not enforce minimum_bandwidth ingress: said, not silently dropped.
    out = _neutron_raw(vmqos, "ovn", "minimum_bandwidth:min_kbps=1000,direction=ingress")
    assert out.lines[-1] == "# note: minimum_bandwidth ingress: not enforced by ML2/OVN (warning)"
    assert not any(line.startswith("#") for line in out.lines[:-1])
    data = json.loads(_neutron(vmqos, "ovn", "minimum_bandwidth:min_kbps=1000,direction=ingress",
                               options=("--format", "json")).stdout)
    assert data["notes"] == ["minimum_bandwidth ingress: not enforced by ML2/OVN (warning)"]
    assert all(not c.startswith("#") for c in data["commands"])


def test_tc_show_includes_the_ingress_policer_when_there_is_one(vmqos: Run) -> None:
    out = vmqos("render", "tc-show", "--vif-type", "ethernet", "--dev", "tapX",
                *props("quota:vif_outbound_average=32768"))
    assert out.code == 0, out.stderr
    assert "$ tc filter show dev tapX parent ffff:" in out.lines
    assert " police 0x1 rate 262144Kbit burst 32Mb mtu 64Kb action drop overhead 0b " \
        in out.lines
    inbound_only = vmqos("render", "tc-show", "--vif-type", "ethernet", "--dev", "tapX",
                         *props("quota:vif_inbound_average=32768"))
    assert not any("parent ffff:" in line for line in inbound_only.lines)
