"""Options shared by several commands, and parsing of their values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from vmqos.errors import ValidationError
from vmqos.model import VifType
from vmqos.profile import PRESETS, Profile, get_profile

if TYPE_CHECKING:  # validate must not load the scenario model (and Neutron's intent with it)
    from vmqos.intent.scenario import Scenario

__all__ = ["FORMATS", "format_option", "parse_properties", "profile_option", "scenario_profile",
           "vif_type_option"]

FORMATS = ("text", "json")
_F = TypeVar("_F", bound=Callable[..., Any])


def format_option(help_text: str | None = None) -> Callable[[_F], _F]:
    """``--format text|json`` (text by default), passed as ``fmt``."""
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
                        show_default=True, help=help_text)


def profile_option(func: _F) -> _F:
    return click.option(
        "--profile",
        type=click.Choice(sorted(PRESETS)),
        default=None,
        help="compute-node behaviour to reproduce (default: the scenario's, or 'modern'): "
             "pike-rhel7 = the seed's Nova 16 / RHEL 7 node",
    )(func)


def vif_type_option(func: _F) -> _F:
    return click.option(
        "--vif-type",
        type=click.Choice([v.value for v in VifType]),
        default=VifType.OVS_HYBRID.value,
        show_default=True,
        help="how the port is plugged: bridge = OVS hybrid (tap in qbr), ethernet = bare tap, "
             "ovs = OVS virtualport, direct = macvtap, vhostuser, hw_veb = SR-IOV agent VF "
             "(Nova writes <bandwidth>, libvirt refuses it), hostdev = OVS-offloaded VF "
             "(os-vif, no <bandwidth>)",
    )(func)


def parse_properties(values: Sequence[str]) -> dict[str, str]:
    """``--property KEY=VALUE`` exactly as ``openstack flavor set --property`` takes it
    (osc-lib ``parseractions.KeyValueAction``: split at the first ``=``, a repeated key keeps
    its first place and takes its last value). The order is kept: it is the order of the
    ``extra_specs`` object the client sends, in which Nova reports the first failure."""
    specs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValidationError(
                f"--property {item!r}: expected KEY=VALUE, e.g. quota:cpu_shares=512",
                key="--property", value=item, allowed="KEY=VALUE")
        specs[key] = value
    return specs


def scenario_profile(scenario: Scenario, name: str | None) -> Profile:
    """The profile a command uses for ``scenario``: the ``--profile`` it was given, else the
    one the scenario names."""
    return get_profile(name or scenario.profile)
