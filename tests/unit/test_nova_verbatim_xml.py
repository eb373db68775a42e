"""Nova writes the ``quota:vif_*`` and ``quota:disk_*`` strings into its XML as they are
(nova/virt/libvirt/designer.py set_vif_bandwidth_config, imagebackend.py Image.disk_qos,
config.py LibvirtConfigGuestInterface.format_dom / LibvirtConfigGuestDisk._format_iotune) and
only ``quota:cpu_*`` through ``int()`` (driver.py _update_guest_cputune): Nova's form of the
domain XML is those bytes, libvirt's form the numbers libvirt stores.

Every expected XML here is a literal: what lxml writes for Nova's config objects (checked by
hand with lxml 6.1: ``etree.Element("inbound", average=" 12")`` serialises as
``<inbound average=" 12"/>``, a non-ASCII digit as itself, ``\\t`` as ``&#9;``).
"""

from __future__ import annotations

import pytest

from vmqos.errors import ValidationError
from vmqos.intent.neutron.network import Port
from vmqos.intent.nova.flavor import Flavor, FlavorQuota, parse_flavor_quota
from vmqos.intent.nova.volume_qos import parse_volume_qos
from vmqos.intent.scenario import Server
from vmqos.jsonable import to_jsonable
from vmqos.libvirt_types import Bandwidth, BandwidthSide, DiskDevice, IoTune, Verbatim
from vmqos.model import VifType
from vmqos.observe.domain_diff import diff_domain_qos
from vmqos.plan.nova.compile import (
    compile_bandwidth,
    compile_cputune,
    compile_domain,
    compile_flavor_iotune,
)
from vmqos.plan.render.domain_xml import (
    render_bandwidth,
    render_cputune,
    render_disk,
    render_domain_xml,
    render_iotune,
)
from vmqos.plan.render.domain_xml_parse import parse_domain_xml
from vmqos.profile import get_profile
from vmqos.units import BytesPerSec, KBytesPerSec, KiB

MODERN = get_profile("modern")
ARABIC_12 = "\u0661\u0662"   # '١٢': ARABIC-INDIC DIGIT ONE, TWO; int() reads 12

# (the extra spec's string, what int() reads, what libvirt 9.0 stores, or None: refused)
# tests/libvirt/test_nova_verbatim_libvirt.py measures the last column on the real libvirtd.
FORMS = [
    ("007", 7, 7),
    (" 12", 12, 12),
    ("+5", 5, 5),
    ("1_000", 1000, None),
    (ARABIC_12, 12, None),
]


def _quota(specs: dict[str, str]) -> FlavorQuota:
    return parse_flavor_quota(specs)


# --- what the quota carries -------------------------------------------------------------------


@pytest.mark.parametrize(("text", "number", "stored"), FORMS)
def test_the_quota_keeps_the_number_and_nova_s_string(text: str, number: int,
                                                      stored: int | None) -> None:
    quota = _quota({"quota:vif_inbound_peak": text, "quota:disk_read_iops_sec": text,
                    "quota:cpu_period": text})
    assert quota.vif_inbound.peak == number
    assert quota.vif_inbound.verbatim == Verbatim({"peak": text})
    assert quota.disk.read_iops_sec == number
    assert quota.disk.verbatim == Verbatim({"read_iops_sec": text})
    assert quota.cpu_period == number      # CPU keys: Nova converts, nothing to keep


def test_a_plain_flavor_carries_no_strings() -> None:
    quota = _quota({"quota:vif_outbound_average": "32768", "quota:disk_write_bytes_sec": "0"})
    assert quota.vif_outbound.verbatim == Verbatim() == {}
    assert quota.disk.verbatim == Verbatim()
    assert not quota.vif_outbound.verbatim


def test_verbatim_is_an_immutable_hashable_mapping() -> None:
    a = Verbatim({"peak": " 12", "average": "007"})
    b = Verbatim([("average", "007"), ("peak", " 12")])
    assert a == b == {"average": "007", "peak": " 12"}
    assert hash(a) == hash(b)
    assert a != Verbatim({"average": "007"})
    assert list(a) == ["average", "peak"]
    assert a.text("average", 7) == "007"
    assert a.text("burst", 131072) == "131072"
    with pytest.raises(KeyError):
        a["burst"]
    assert repr(a) == "Verbatim({'average': '007', 'peak': ' 12'})"
    # The plan's JSON shows Nova's strings by field name.
    side = BandwidthSide(KBytesPerSec(7), verbatim=Verbatim({"average": "007"}))
    assert to_jsonable(side) == {"average": 7, "peak": None, "burst": None,
                                 "verbatim": {"average": "007"}}


# --- <bandwidth>: Nova writes the strings -----------------------------------------------------


@pytest.mark.parametrize(("text", "number", "stored"), FORMS)
def test_bandwidth_average_peak_burst_in_nova_s_form(text: str, number: int,
                                                     stored: int | None) -> None:
    quota = _quota({"quota:vif_inbound_average": text, "quota:vif_inbound_peak": text,
                    "quota:vif_inbound_burst": text, "quota:vif_outbound_average": text})
    bandwidth = compile_bandwidth(quota, VifType.OVS_HYBRID)
    assert bandwidth is not None
    assert render_bandwidth(bandwidth) == (
        f'<bandwidth><inbound average="{text}" peak="{text}" burst="{text}"/>'
        f'<outbound average="{text}"/></bandwidth>')


def test_bandwidth_literals() -> None:
    def nova(average: str) -> str:
        bandwidth = compile_bandwidth(_quota({"quota:vif_inbound_average": average}),
                                      VifType.OVS_BRIDGE)
        assert bandwidth is not None
        return render_bandwidth(bandwidth)

    assert nova("007") == '<bandwidth><inbound average="007"/></bandwidth>'
    assert nova(" 12") == '<bandwidth><inbound average=" 12"/></bandwidth>'
    assert nova("+5") == '<bandwidth><inbound average="+5"/></bandwidth>'
    assert nova("1_000") == '<bandwidth><inbound average="1_000"/></bandwidth>'
    assert nova("١٢") == '<bandwidth><inbound average="١٢"/></bandwidth>'
    assert nova("12 ") == '<bandwidth><inbound average="12 "/></bandwidth>'
    # lxml escapes a tab in an attribute; libvirt's parser sees the tab, skips it, stores 12.
    assert nova("\t12") == '<bandwidth><inbound average="&#9;12"/></bandwidth>'


@pytest.mark.parametrize(("text", "number", "stored"), [f for f in FORMS if f[2] is not None])
def test_bandwidth_in_libvirt_s_form_is_the_stored_number(text: str, number: int,
                                                          stored: int) -> None:
    quota = _quota({"quota:vif_inbound_average": text, "quota:vif_inbound_burst": text})
    bandwidth = compile_bandwidth(quota, VifType.OVS_HYBRID)
    assert bandwidth is not None
    assert render_bandwidth(bandwidth, form="libvirt") == (
        f"<bandwidth><inbound average='{stored}' burst='{stored}'/></bandwidth>")


# --- <iotune>: Nova writes the strings --------------------------------------------------------


@pytest.mark.parametrize(("text", "number", "stored"), FORMS)
def test_iotune_in_nova_s_form(text: str, number: int, stored: int | None) -> None:
    quota = _quota({"quota:disk_read_bytes_sec": text, "quota:disk_write_iops_sec": text})
    tune = compile_flavor_iotune(quota)
    assert tune is not None
    assert render_iotune(tune) == (f"<iotune><read_bytes_sec>{text}</read_bytes_sec>"
                                   f"<write_iops_sec>{text}</write_iops_sec></iotune>")


def test_iotune_literals() -> None:
    def nova(text: str) -> str:
        tune = compile_flavor_iotune(_quota({"quota:disk_read_bytes_sec": text}))
        assert tune is not None
        return render_iotune(tune)

    assert nova("007") == "<iotune><read_bytes_sec>007</read_bytes_sec></iotune>"
    assert nova(" 12") == "<iotune><read_bytes_sec> 12</read_bytes_sec></iotune>"
    assert nova("+5") == "<iotune><read_bytes_sec>+5</read_bytes_sec></iotune>"
    assert nova("1_000") == "<iotune><read_bytes_sec>1_000</read_bytes_sec></iotune>"
    assert nova("١٢") == "<iotune><read_bytes_sec>١٢</read_bytes_sec></iotune>"
    # lxml leaves a tab in text as it is (it escapes only \r there).
    assert nova("\t12") == "<iotune><read_bytes_sec>\t12</read_bytes_sec></iotune>"


@pytest.mark.parametrize(("text", "number", "stored"), [f for f in FORMS if f[2] is not None])
def test_iotune_in_libvirt_s_form_is_the_stored_number(text: str, number: int,
                                                       stored: int) -> None:
    tune = compile_flavor_iotune(_quota({"quota:disk_total_iops_sec": text}))
    assert tune is not None
    assert render_iotune(tune, form="libvirt") == (
        f"<iotune><total_iops_sec>{stored}</total_iops_sec></iotune>")


def test_cinder_strings_are_written_verbatim_too() -> None:
    # nova/virt/libvirt/volume/volume.py get_config copies qos_specs' strings (tune_opts).
    qos = parse_volume_qos({"total_bytes_sec": " 12", "total_iops_sec_max": "+50",
                            "total_iops_sec": "10", "total_iops_sec_max_length": " 2"})
    assert qos.verbatim == Verbatim({"total_bytes_sec": " 12", "total_iops_sec_max": "+50",
                                     "total_iops_sec_max_length": " 2"})
    qos = qos.as_forwarded_by_nova()     # Nova forwards no lengths, so none of their strings
    assert qos.verbatim == Verbatim({"total_bytes_sec": " 12", "total_iops_sec_max": "+50"})
    tune = IoTune(**{k: getattr(qos, k) for k in IoTune.__dataclass_fields__})
    disk = DiskDevice("vdb", "/dev/x", source_kind="volume", iotune=tune)
    assert render_disk(disk).endswith(
        "<iotune><total_bytes_sec> 12</total_bytes_sec><total_iops_sec>10</total_iops_sec>"
        "<total_iops_sec_max>+50</total_iops_sec_max></iotune></disk>")
    assert "<total_bytes_sec>12</total_bytes_sec>" in render_disk(disk, form="libvirt")


# --- <cputune>: Nova converts -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "number", "stored"), FORMS)
def test_cputune_is_int_of_the_string(text: str, number: int, stored: int | None) -> None:
    quota = _quota({"quota:cpu_shares": text, "quota:cpu_period": text})
    tune = compile_cputune(quota, 1, MODERN)
    assert tune is not None
    assert render_cputune(tune) == (
        f"<cputune><shares>{number}</shares><period>{number}</period></cputune>")


# --- the whole domain -------------------------------------------------------------------------


PORT = Port(id="dc065497-3c8d-4f44-8fb4-e1d33c16a536", network_id="n", mac="fa:16:3e:00:00:01",
            vif_type=VifType.OVS_HYBRID)
SERVER = Server(name="vm", flavor="f", id="u-1", image_id="img",
                instance_name="instance-0000002a", ports=(PORT.id,))


def _domain(specs: dict[str, str]) -> tuple[str, str]:
    flavor = Flavor("f", extra_specs=specs)
    spec = compile_domain(SERVER, flavor, flavor.quota, [PORT], MODERN)
    return render_domain_xml(spec), render_domain_xml(spec, form="libvirt")


SPECS = {"quota:vif_inbound_average": "007", "quota:vif_inbound_peak": " 12",
         "quota:vif_inbound_burst": "+5", "quota:vif_outbound_average": "1_000",
         "quota:disk_read_bytes_sec": " 12", "quota:disk_write_iops_sec": ARABIC_12,
         "quota:cpu_shares": " 12", "quota:cpu_quota": "+5"}


def test_domain_in_nova_s_form() -> None:
    nova, _ = _domain(SPECS)
    assert """\
  <cputune>
    <shares>12</shares>
    <quota>5</quota>
  </cputune>
""" in nova
    assert """\
      <iotune>
        <read_bytes_sec> 12</read_bytes_sec>
        <write_iops_sec>١٢</write_iops_sec>
      </iotune>
""" in nova
    assert """\
      <bandwidth>
        <inbound average="007" peak=" 12" burst="+5"/>
        <outbound average="1_000"/>
      </bandwidth>
""" in nova


def test_domain_in_libvirt_s_form_for_strings_libvirt_accepts() -> None:
    accepted = {k: v for k, v in SPECS.items() if v not in ("1_000", ARABIC_12)}
    nova, libvirt = _domain(accepted)
    assert """\
      <iotune>
        <read_bytes_sec>12</read_bytes_sec>
      </iotune>
""" in libvirt
    assert """\
      <bandwidth>
        <inbound average='7' peak='12' burst='5'/>
      </bandwidth>
""" in libvirt
    # libvirt's parse of Nova's bytes is libvirt's form; the audit sees no difference between
    # the plan (Nova's strings) and the domain libvirt keeps (its numbers).
    parsed = parse_domain_xml(nova)
    (iface,) = parsed.interfaces
    assert iface.bandwidth == Bandwidth(inbound=BandwidthSide(
        KBytesPerSec(7), KBytesPerSec(12), KiB(5)))
    assert parsed.disks[0].iotune == IoTune(read_bytes_sec=BytesPerSec(12))
    assert parse_domain_xml(libvirt).interfaces[0].bandwidth == iface.bandwidth
    flavor = Flavor("f", extra_specs=accepted)
    desired = compile_domain(SERVER, flavor, flavor.quota, [PORT], MODERN)
    assert desired.interfaces[0].bandwidth != iface.bandwidth    # it carries Nova's strings
    assert diff_domain_qos(desired, parse_domain_xml(libvirt)) == []


def test_libvirt_s_parser_refuses_what_libvirt_refuses_in_nova_s_bytes() -> None:
    nova, _ = _domain({"quota:vif_inbound_average": "1_000"})
    with pytest.raises(ValidationError) as exc:
        parse_domain_xml(nova)
    assert str(exc.value) == "could not convert bandwidth average value '1_000'"
    nova, _ = _domain({"quota:disk_read_iops_sec": ARABIC_12})
    with pytest.raises(ValidationError) as exc:
        parse_domain_xml(nova)
    assert str(exc.value) == "disk iotune field 'read_iops_sec' must be an integer"


@pytest.mark.parametrize("text", ["\v12", "12\f"])
def test_a_string_lxml_cannot_hold_is_nova_failing_to_write_the_xml(text: str) -> None:
    # int() strips \v and \f as whitespace; XML 1.0 has no such characters, and lxml raises
    # ValueError building Nova's config (checked with lxml 6.1).
    for key in ("quota:vif_inbound_average", "quota:disk_read_bytes_sec"):
        with pytest.raises(ValidationError) as exc:
            _domain({key: text})
        assert str(exc.value).endswith(
            "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control "
            "characters")
        assert exc.value.value == text
