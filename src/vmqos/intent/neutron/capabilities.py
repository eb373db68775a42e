"""What each Neutron QoS backend accepts and what its dataplane really enforces, as data.

Two tables, both declarative:

* :data:`DRIVERS` — the API side, a transcription of each QoS driver's ``SUPPORTED_RULES``,
  ``vif_types`` and ``vnic_types`` (``neutron/services/qos/drivers/*/driver.py``; Linux bridge
  from the last tree before its removal in 26.0.0). It drives ``GET /qos/rule-types``
  (:func:`rule_types`), the rule-type details (:func:`rule_type_details`) and the
  ``QosRuleNotSupported`` check (:func:`check_rule_supported`), exactly as the driver manager and
  ``DriverBase.is_rule_supported`` do.
* ``_REALITY`` — what the agent or OVN then does on the host (the admin guide's "enforcement
  reality" tables, neutron doc/source/admin/config-qos.rst): an accepted rule may still be ignored
  in one direction, lose its
  burst, or only reserve Placement inventory. :func:`enforcement` answers that for explain.

The parameter ranges and choices are defined once, here (:class:`Parameter`), and reused by the
API validation in :mod:`vmqos.intent.neutron.rules`, just as neutron-lib and the drivers share
``DB_INTEGER_MAX_VALUE``, ``VALID_DIRECTIONS`` and ``VALID_DSCP_MARKS``.

Invariants: every table value is immutable; :data:`BACKENDS` and ``_REALITY`` are keyed by
:class:`~vmqos.model.NeutronBackend`; :func:`driver` also accepts the driver name Neutron
reports (``openvswitch``, ``OVNQosDriver``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from vmqos.errors import ConflictError, ValidationError
from vmqos.intent.neutron.model import Rule, RuleType
from vmqos.model import Direction, NeutronBackend

__all__ = [
    "BACKENDS",
    "DB_INTEGER_MAX_VALUE",
    "DIRECTION",
    "DIRECTION_EGRESS_ONLY",
    "DIRECTION_OR_ANY",
    "DRIVERS",
    "DSCP_MARK",
    "MAX_BURST_KBPS",
    "MAX_BURST_KPPS",
    "MAX_KBPS",
    "MAX_KPPS",
    "MIN_KBPS",
    "MIN_KPPS",
    "VALID_DSCP_MARKS",
    "Driver",
    "Enforcement",
    "EnforcementMode",
    "ParamType",
    "Parameter",
    "check_rule_supported",
    "driver",
    "enforcement",
    "is_rule_supported",
    "rule_param_value",
    "rule_type_details",
    "rule_types",
]

# neutron-lib db/constants.py: the upper bound of every kbps/kpps column (a signed 32-bit int).
DB_INTEGER_MAX_VALUE = 2**31 - 1

# neutron-lib constants.VALID_DSCP_MARKS: even numbers 0..56 except 2-6, 42 and 50-54.
VALID_DSCP_MARKS: tuple[int, ...] = (
    0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 44, 46, 48, 56,
)


class ParamType(Enum):
    """neutron-lib ``VALUES_TYPE_RANGE`` / ``VALUES_TYPE_CHOICES``."""

    RANGE = "range"
    CHOICES = "choices"


@dataclass(frozen=True, slots=True)
class Parameter:
    """One rule attribute and its validator (``type:range`` or ``type:values``)."""

    name: str
    type: ParamType
    start: int = 0
    end: int = DB_INTEGER_MAX_VALUE
    choices: tuple[str, ...] | tuple[int, ...] = ()

    def reason(self, value: object) -> str | None:
        """neutron-lib's validator message for ``value`` (already converted), or ``None``.

        ``validate_range``: ``'<v>' is too small - must be at least '<start>'`` /
        ``... is too large - must be no larger than '<end>'``; ``validate_values``:
        ``<v> is not in valid_values`` (the literal word "valid_values").
        """
        if self.type is ParamType.CHOICES:
            if value in self.choices:
                return None
            return f"{value} is not in valid_values"
        if not isinstance(value, int):
            return f"'{value}' is not an integer"
        if value < self.start:
            return f"'{value}' is too small - must be at least '{self.start}'"
        if value > self.end:
            return f"'{value}' is too large - must be no larger than '{self.end}'"
        return None

    @property
    def allowed(self) -> str:
        if self.type is ParamType.CHOICES:
            return ", ".join(str(c) for c in self.choices)
        return f"an integer in [{self.start}, {self.end}]"

    def to_api(self) -> dict[str, object]:
        """One ``supported_parameters`` entry (driver manager ``_parse_parameter_values``)."""
        values: object = (
            {"start": self.start, "end": self.end} if self.type is ParamType.RANGE
            else list(self.choices))
        return {"parameter_name": self.name, "parameter_type": self.type.value,
                "parameter_values": values}


def _range(name: str) -> Parameter:
    return Parameter(name, ParamType.RANGE)


MAX_KBPS = _range("max_kbps")
MAX_BURST_KBPS = _range("max_burst_kbps")
MIN_KBPS = _range("min_kbps")
MAX_KPPS = _range("max_kpps")
MAX_BURST_KPPS = _range("max_burst_kpps")
MIN_KPPS = _range("min_kpps")
DSCP_MARK = Parameter("dscp_mark", ParamType.CHOICES, choices=VALID_DSCP_MARKS)
# neutron-lib VALID_DIRECTIONS and VALID_DIRECTIONS_AND_ANY, in their order.
DIRECTION = Parameter("direction", ParamType.CHOICES, choices=("ingress", "egress"))
DIRECTION_OR_ANY = Parameter("direction", ParamType.CHOICES, choices=("any", "ingress", "egress"))
# SR-IOV: the VF has no receive limiter, so its driver lists egress only.
DIRECTION_EGRESS_ONLY = Parameter("direction", ParamType.CHOICES, choices=("egress",))

_RuleParams = Mapping[RuleType, tuple[Parameter, ...]]


@dataclass(frozen=True, slots=True)
class Driver:
    """A Neutron QoS driver: its reported name, the bindings it serves and ``SUPPORTED_RULES``."""

    name: str
    vif_types: tuple[str, ...]
    vnic_types: tuple[str, ...]
    supported_rules: _RuleParams
    note: str = ""

    def is_rule_supported(self, rule: Rule) -> bool:
        """``DriverBase.is_rule_supported``: the type is listed and every parameter validates."""
        params = self.supported_rules.get(rule.type)
        if not params:
            return False
        return all(p.reason(rule_param_value(rule, p.name)) is None for p in params)


def rule_param_value(rule: Rule, name: str) -> object:
    """A rule attribute in Neutron's API form (``direction`` as ``ingress``/``egress``/``any``)."""
    if name == "direction":
        direction: Direction | None = getattr(rule, "direction", None)
        return "any" if direction is None else direction.neutron
    return getattr(rule, name, None)


def _frozen(table: dict[RuleType, tuple[Parameter, ...]]) -> _RuleParams:
    return MappingProxyType(table)


# Transcribed in the drivers' own order (it is the order of ``supported_parameters``).
_OVS = Driver(
    name="openvswitch",
    vif_types=("ovs", "vhostuser"),
    vnic_types=("normal", "direct"),
    supported_rules=_frozen({
        RuleType.BANDWIDTH_LIMIT: (MAX_KBPS, MAX_BURST_KBPS, DIRECTION),
        RuleType.PACKET_RATE_LIMIT: (MAX_KPPS, MAX_BURST_KPPS, DIRECTION),
        RuleType.DSCP_MARKING: (DSCP_MARK,),
        RuleType.MINIMUM_BANDWIDTH: (MIN_KBPS, DIRECTION),
        RuleType.MINIMUM_PACKET_RATE: (MIN_KPPS, DIRECTION_OR_ANY),
    }),
)
_SRIOV = Driver(
    name="sriovnicswitch",
    vif_types=("hw_veb",),
    vnic_types=("direct", "macvtap", "direct-physical"),
    supported_rules=_frozen({
        RuleType.BANDWIDTH_LIMIT: (MAX_KBPS, MAX_BURST_KBPS, DIRECTION_EGRESS_ONLY),
        RuleType.MINIMUM_BANDWIDTH: (MIN_KBPS, DIRECTION),
    }),
)
_OVN = Driver(
    name="OVNQosDriver",
    vif_types=("ovs", "vhostuser"),
    vnic_types=("normal",),
    supported_rules=_frozen({
        RuleType.BANDWIDTH_LIMIT: (MAX_KBPS, MAX_BURST_KBPS, DIRECTION),
        RuleType.DSCP_MARKING: (DSCP_MARK,),
        RuleType.MINIMUM_BANDWIDTH: (MIN_KBPS, DIRECTION),
    }),
    note="loaded only with qos in [ml2] extension_drivers; no RPC",
)
_LINUXBRIDGE = Driver(
    name="linuxbridge",
    vif_types=("bridge", "tap"),
    vnic_types=("normal",),
    supported_rules=_frozen({
        RuleType.BANDWIDTH_LIMIT: (MAX_KBPS, MAX_BURST_KBPS, DIRECTION),
        RuleType.DSCP_MARKING: (DSCP_MARK,),
    }),
    note="removed in Neutron 26.0.0 (2025.1 Epoxy)",
)

BACKENDS: Mapping[NeutronBackend, Driver] = MappingProxyType({
    NeutronBackend.OVS: _OVS, NeutronBackend.OVN: _OVN, NeutronBackend.SRIOV: _SRIOV,
    NeutronBackend.LINUXBRIDGE: _LINUXBRIDGE,
})
# The same drivers keyed by the name Neutron reports.
DRIVERS: Mapping[str, Driver] = MappingProxyType({d.name: d for d in BACKENDS.values()})
# Either name: vmqos's backend name first, then Neutron's driver name.
_BY_NAME: Mapping[str, Driver] = MappingProxyType(
    {**DRIVERS, **{backend.value: d for backend, d in BACKENDS.items()}})

_VALID_RULE_TYPES = ", ".join(t.value for t in RuleType)


def driver(backend: str) -> Driver:
    """The driver for a vmqos backend name (``ovs``) or a Neutron driver name (``openvswitch``)."""
    found = _BY_NAME.get(backend)
    if found is None:
        allowed = ", ".join((*BACKENDS, *DRIVERS))
        raise ValidationError(f"Unknown QoS backend '{backend}'; valid backends: {allowed}",
                              key="backend", value=backend, allowed=allowed)
    return found


def is_rule_supported(backend: str, rule: Rule) -> bool:
    return driver(backend).is_rule_supported(rule)


def check_rule_supported(backend: str, rule: Rule, *, port_id: str | None = None,
                         network_id: str | None = None) -> None:
    """Raise Neutron's 409 when the backend's driver does not accept ``rule``.

    With ``port_id``: ``QosRuleNotSupported`` (``validate_policy_for_port``); with only
    ``network_id``: ``QosRuleNotSupportedByNetwork`` (``validate_policy_for_network``).
    """
    drv = driver(backend)
    if drv.is_rule_supported(rule):
        return
    rule_type = rule.type.value
    params = drv.supported_rules.get(rule.type, ())
    allowed = (f"{drv.name} accepts " + "; ".join(f"{p.name}: {p.allowed}" for p in params)
               if params else f"{drv.name} supports: "
               + ", ".join(t.value for t in drv.supported_rules))
    if port_id is not None:
        message, kind = f"Rule {rule_type} is not supported by port {port_id}", \
            "QosRuleNotSupported"
    elif network_id is not None:
        message, kind = f"Rule {rule_type} is not supported by network {network_id}", \
            "QosRuleNotSupportedByNetwork"
    else:
        message, kind = f"Rule {rule_type} is not supported by {drv.name}", "QosRuleNotSupported"
    raise ConflictError(message, kind=kind, key=rule_type, value=rule, allowed=allowed)


def rule_types(backends: Sequence[str], *, all_supported: bool = False,
               all_rules: bool = False) -> list[str]:
    """``GET /v2.0/qos/rule-types``: the intersection of the loaded drivers' rule types.

    ``all_rules`` wins over everything (all five types, even with no driver); no driver -> ``[]``;
    ``all_supported`` -> the union (driver manager ``supported_rule_types``). Neutron returns a
    set; this returns ``VALID_RULE_TYPES`` order so that output is stable.
    """
    if all_rules:
        return [t.value for t in RuleType]
    drivers = [driver(b) for b in backends]
    if not drivers:
        return []
    if all_supported:
        return [t.value for t in RuleType if any(t in d.supported_rules for d in drivers)]
    return [t.value for t in RuleType if all(t in d.supported_rules for d in drivers)]


def _rule_type(rule_type: str) -> RuleType:
    try:
        return RuleType(rule_type)
    except ValueError:
        raise ValidationError(
            f"Invalid QoS rule type '{rule_type}'; valid rule types: {_VALID_RULE_TYPES}",
            key="type", value=rule_type, allowed=_VALID_RULE_TYPES) from None


def rule_type_details(rule_type: str, backends: Sequence[str]) -> dict[str, object]:
    """``GET /v2.0/qos/rule-types/{rule_type}`` body (inside ``rule_type``), loaded drivers only."""
    kind = _rule_type(rule_type)
    drivers: list[dict[str, object]] = []
    for drv in (driver(b) for b in backends):
        params = drv.supported_rules.get(kind)
        if params:
            drivers.append({"name": drv.name,
                            "supported_parameters": [p.to_api() for p in params]})
    return {"type": kind.value, "drivers": drivers}


# --- enforcement reality --------------------------------------------------------------------


class EnforcementMode(Enum):
    DATAPLANE = "dataplane"        # the host enforces it for this direction
    PLACEMENT = "placement only"   # Placement reserves inventory; nothing on the host
    IGNORED = "ignored"            # the API accepts it but the host does nothing
    REJECTED = "rejected"          # the API refuses it (QosRuleNotSupported)


@dataclass(frozen=True, slots=True)
class Enforcement:
    """What one backend does with one rule, for explain."""

    backend: NeutronBackend
    rule_type: RuleType
    mode: EnforcementMode
    dataplane_directions: frozenset[Direction]   # directions the host enforces for this type
    placement_directions: frozenset[Direction]   # directions Placement reserves for this type
    burst_honoured: bool
    note: str

    @property
    def enforced(self) -> bool:
        return self.mode is EnforcementMode.DATAPLANE


@dataclass(frozen=True, slots=True)
class _Reality:
    dataplane: frozenset[Direction]
    placement: frozenset[Direction]
    burst: bool
    note: str
    physnet_only: bool = False   # the dataplane part needs a VLAN/flat (physnet) port


_NONE: frozenset[Direction] = frozenset()
_OUT = frozenset({Direction.OUTBOUND})
_BOTH = frozenset({Direction.INBOUND, Direction.OUTBOUND})

# Neutron config-qos.rst enforcement tables and each agent's qos_driver.py. Missing (backend, type)
# pairs are rejected
# by the API table above, so they need no entry.
_REALITY: Mapping[tuple[NeutronBackend, RuleType], _Reality] = MappingProxyType({
    (NeutronBackend.OVS, RuleType.BANDWIDTH_LIMIT): _Reality(
        _BOTH, _NONE, True,
        "egress: Interface ingress_policing (burst 0 -> 80 % of the rate); "
        "ingress: linux-htb queue max-rate (burst 0 -> minimal MTU burst)"),
    (NeutronBackend.OVS, RuleType.PACKET_RATE_LIMIT): _Reality(
        _BOTH, _NONE, True,
        "OpenFlow meter (pktps); needs the userspace datapath or kernel >= 4.15, skipped if "
        "the bridge has no meter support"),
    (NeutronBackend.OVS, RuleType.DSCP_MARKING): _Reality(
        _OUT, _NONE, False, "br-int table 0 flow sets ip_dscp on traffic from the VM"),
    (NeutronBackend.OVS, RuleType.MINIMUM_BANDWIDTH): _Reality(
        _OUT, _BOTH, False,
        "egress only, and only for physnet (VLAN/flat) ports: linux-htb min-rate queue on the "
        "physical NIC; ingress is Placement-only", physnet_only=True),
    (NeutronBackend.OVS, RuleType.MINIMUM_PACKET_RATE): _Reality(
        _NONE, _BOTH, False, "Placement only (since Yoga); the agent enforces nothing"),
    (NeutronBackend.SRIOV, RuleType.BANDWIDTH_LIMIT): _Reality(
        _OUT, _NONE, False,
        "VF max_tx_rate in Mbit/s (kbps rounded half-up); burst ignored: not supported by "
        "the IP tool"),
    (NeutronBackend.SRIOV, RuleType.MINIMUM_BANDWIDTH): _Reality(
        _OUT, _BOTH, False,
        "egress VF min_tx_rate (not for direct-physical); ingress is Placement-only"),
    (NeutronBackend.OVN, RuleType.BANDWIDTH_LIMIT): _Reality(
        _BOTH, _NONE, True,
        "OVN QoS meter (from-lport egress, to-lport ingress); burst 0 -> burst = rate"),
    (NeutronBackend.OVN, RuleType.DSCP_MARKING): _Reality(
        _OUT, _NONE, False, "OVN QoS from-lport action dscp"),
    (NeutronBackend.OVN, RuleType.MINIMUM_BANDWIDTH): _Reality(
        _OUT, _BOTH, False,
        "egress on physnet ports only (LSP option qos_min_rate, since Zed); ingress is "
        "Placement-only", physnet_only=True),
    (NeutronBackend.LINUXBRIDGE, RuleType.BANDWIDTH_LIMIT): _Reality(
        _BOTH, _NONE, True,
        "egress: tc ingress police (burst 0 -> 80 %); ingress: tbf on the tap "
        "(removed in 26.0.0)"),
    (NeutronBackend.LINUXBRIDGE, RuleType.DSCP_MARKING): _Reality(
        _OUT, _NONE, False, "iptables mangle DSCP on traffic from the VM (removed in 26.0.0)"),
})


def _backend_key(backend: str) -> NeutronBackend:
    drv = driver(backend)
    for key, value in BACKENDS.items():
        if value is drv:
            return key
    raise AssertionError(backend)  # driver() only returns members of BACKENDS


def enforcement(backend: str, rule: Rule, *, physnet: bool | None = None) -> Enforcement:
    """What ``backend`` does with ``rule`` on the host: dataplane, Placement only, or nothing.

    ``physnet``: whether the port's network is VLAN/flat (``None``: unknown, assume it is).
    Minimum bandwidth has no dataplane effect on tunnelled (VXLAN/Geneve) ports
    (QosOVSAgentDriver.update_minimum_bandwidth; OVN qos.py).
    """
    key = _backend_key(backend)
    drv = BACKENDS[key]
    reality = _REALITY.get((key, rule.type))
    if reality is None or not drv.is_rule_supported(rule):
        return Enforcement(key, rule.type, EnforcementMode.REJECTED, _NONE, _NONE, False,
                           f"{drv.name} rejects this rule (QosRuleNotSupported)")
    # DSCP has no direction: it marks traffic from the VM. min-pps "any" (None) covers both.
    direction: Direction | None = getattr(rule, "direction", Direction.OUTBOUND)
    wanted = _BOTH if direction is None else frozenset({direction})
    dataplane = _NONE if reality.physnet_only and physnet is False else reality.dataplane
    if wanted <= dataplane:
        mode = EnforcementMode.DATAPLANE
    elif wanted <= reality.placement:
        mode = EnforcementMode.PLACEMENT
    else:
        mode = EnforcementMode.IGNORED
    return Enforcement(key, rule.type, mode, dataplane, reality.placement,
                       reality.burst and mode is EnforcementMode.DATAPLANE, reality.note)
