"""Nova's flavor extra-spec validation, every namespace, exactly as the API applies it at
microversion >= 2.86.

This module is the one validator over the one registry
(:data:`vmqos.intent.nova.extra_spec_keys.NOVA_SPECS`). It mirrors Nova master 00a030403f67
(read in source) ``nova/api/validation/extra_specs/validators.py`` ``validate()`` and
``base.py`` ``ExtraSpecValidator.validate()``:

1. a key equal to a registered name is checked by that spec (a registered name is the
   template, so ``hw:numa_cpus.{num}`` typed literally fails the name check);
2. otherwise the first spec, in registry order, whose name regex (the name with each ``{param}``
   replaced by its pattern) matches the whole key checks it;
3. otherwise a key without a ``:`` is accepted, and so is a key whose namespace (the part before
   the first ``:``) matches no registered namespace (``quotas:x``, ``foo:bar``); a key in a
   known namespace (``hw:bogus``, ``quota:vif_inbound_floor``, ``trait:NOT_A_TRAIT``, and also
   ``traits:...`` and ``resources_x:...``, whose suffixes read as request groups) is not a
   valid extra spec.

Values: ``int`` keys go through Python ``int()`` (so ``' 12 '``, ``'+5'`` and ``'1_000'`` pass,
``'abc'`` and ``'1.5'`` fail), then ``max``, then ``min``; ``bool`` keys accept what
``oslo_utils.strutils.bool_from_string(strict=True)`` accepts (stripped, case-insensitive
``1 t true on y yes 0 f false off n no``); ``str`` keys are matched against their pattern
(``re.fullmatch``) or else their enum, or take anything. The error messages are Nova's,
verbatim; a message quotes the *converted* integer for ``max``/``min``, as Nova's does.

Invariants:

* Every verdict comes from :func:`validate_extra_spec`; the API (``vmqos.api.compute_flavors``)
  and ``vmqos validate`` call it through :mod:`vmqos.intent.nova.extra_specs_body`, after
  Nova's body schema and in the body's order. Keys and values reaching it have passed that
  schema (a key of ``^[a-zA-Z0-9-_:. ]{1,255}$``, a string of at most 255 characters).
  A :class:`~vmqos.intent.nova.flavor.Flavor` checks only its ``quota:`` keys
  (:func:`validate_quota_specs`): the rest of its specs are Nova's API's concern, and a
  flavor stored below 2.86 boots in Nova with whatever they hold.
* Regexes are compiled on first use and kept: the lookup of a registered name compiles one, so
  ``vmqos validate --property quota:cpu_shares=512`` starts as fast as before.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from types import MappingProxyType

from vmqos.errors import ValidationError
from vmqos.intent.nova.extra_spec_keys import NOVA_SPECS
from vmqos.intent.nova.extra_spec_types import BOOL_STRINGS, ExtraSpec, QuotaSpec
from vmqos.intent.nova.quota_specs import QUOTA_SPECS

__all__ = [
    "QUOTA_SPECS",
    "REGISTRY",
    "ExtraSpec",
    "QuotaSpec",
    "validate_extra_spec",
    "validate_extra_specs",
    "validate_quota_specs",
]

# Nova's VALIDATORS dict: keyed by the registered name, in load order; a name registered twice
# (capabilities:vcpus_used) keeps its first place and its last spec.
REGISTRY: Mapping[str, ExtraSpec] = MappingProxyType({s.name: s for s in NOVA_SPECS})

_QUOTA_NAMESPACE = "quota"


def _name_regex(spec: ExtraSpec) -> str:
    """``ExtraSpecValidator.__post_init__``: each ``{param}`` becomes a named group of its
    pattern; nothing else of the name is escaped."""
    regex = spec.name
    for param in spec.params:
        regex = regex.replace(f"{{{param.name}}}", f"(?P<{param.name}>{param.pattern})")
    return regex


@functools.cache
def _name_pattern(spec: ExtraSpec) -> re.Pattern[str]:
    return re.compile(_name_regex(spec))


@functools.cache
def _search_order() -> tuple[ExtraSpec, ...]:
    """Every spec once, in Nova's order, its name regex compiled (the linear search)."""
    for spec in REGISTRY.values():
        _name_pattern(spec)
    return tuple(REGISTRY.values())


@functools.cache
def _namespaces() -> tuple[tuple[re.Pattern[str], str], ...]:
    """``load_validators``' NAMESPACES: the part before the first ``:`` of each name regex that
    has one (``hw``, ``resources(?P<group>...)``), and the names registered in it."""
    members: dict[str, list[str]] = {}
    for spec in REGISTRY.values():
        regex = _name_regex(spec)
        if ":" in regex:
            members.setdefault(regex.split(":", 1)[0], []).append(spec.name)
    return tuple((re.compile(ns), ", ".join(sorted(names))) for ns, names in members.items())


def _find_spec(key: str) -> ExtraSpec | None:
    spec = REGISTRY.get(key)
    if spec is not None:
        return spec
    return next((s for s in _search_order() if _name_pattern(s).fullmatch(key)), None)


def _unknown_in_namespace(key: str) -> str | None:
    """The names registered in ``key``'s namespace, or None if Nova does not know it."""
    if ":" not in key:
        return None
    namespace = key.split(":", 1)[0]
    return next((names for pattern, names in _namespaces() if pattern.fullmatch(namespace)),
                None)


def _error(message: str, spec: ExtraSpec, key: str, value: str) -> ValidationError:
    return ValidationError(f"Validation failed; {message}", key=key, value=value,
                           allowed=spec.allowed)


def _check_int(spec: ExtraSpec, key: str, value: str) -> None:
    """``ExtraSpecValidator._validate_int``: ``int()``, then ``max``, then ``min``."""
    try:
        number = int(value)
    except ValueError:
        raise _error(f"'{value}' is not a valid integer value.", spec, key, value) from None
    # Nova formats the *converted* integer here, so ' -1 ' is reported as '-1'.
    if spec.max is not None and number > spec.max:
        raise _error(f"'{number}' is greater than the max value of '{spec.max}'.",
                     spec, key, value)
    if spec.min is not None and number < spec.min:
        raise _error(f"'{number}' is less than the min value of '{spec.min}'.",
                     spec, key, value)


def _check_value(spec: ExtraSpec, key: str, value: str) -> None:
    if spec.value_type is int:
        _check_int(spec, key, value)
    elif spec.value_type is bool:
        # _validate_bool: strutils.bool_from_string(value, strict=True).
        if value.strip().lower() not in BOOL_STRINGS:
            raise _error(f"'{value}' is not a valid boolean-like value.", spec, key, value)
    elif spec.pattern is not None:
        # _validate_str: the pattern wins over an enum; the message quotes Nova's pattern.
        if re.fullmatch(spec.matcher or spec.pattern, value) is None:
            raise _error(f"'{value}' is not of the format '{spec.pattern}'.", spec, key, value)
    elif spec.enum and value not in spec.enum:
        raise _error(f"'{value}' is not one of: {', '.join(spec.enum)}.", spec, key, value)


def validate_extra_spec(key: str, value: str) -> None:
    """Validate one flavor extra spec exactly as Nova's API does at microversion >= 2.86.

    Raises :class:`~vmqos.errors.ValidationError` with Nova's message; ``key`` and ``value``
    are the input, ``allowed`` says what would pass (the values, or the keys of the namespace).
    """
    spec = _find_spec(key)
    if spec is not None:
        if _name_pattern(spec).fullmatch(key) is None:
            # Only a registered template typed literally gets here (Nova: "mainly here for
            # testing purposes"); the API's key schema already refuses braces.
            raise _error(f"expected a name of format '{spec.name}' but got '{key}'.",
                         spec, key, value)
        _check_value(spec, key, value)
        return
    names = _unknown_in_namespace(key)
    if names is not None:
        raise ValidationError(
            f"Validation failed; extra spec '{key}' does not appear to be a valid extra spec.",
            key=key, value=value, allowed=names,
        )


def validate_extra_specs(specs: Mapping[str, str]) -> None:
    """Validate every extra spec in ``specs``' order and raise the first error, as Nova's
    ``FlavorExtraSpecsController._check_extra_specs_value`` walks a request body
    (``nova/api/openstack/compute/flavors_extraspecs.py``): the first bad spec the client
    sent is the one named."""
    for key, value in specs.items():
        validate_extra_spec(key, value)


def validate_quota_specs(specs: Mapping[str, str]) -> None:
    """:func:`validate_extra_specs` restricted to the ``quota`` namespace: what a flavor's quota
    needs to be parsed. Keys elsewhere are neither checked nor looked at."""
    validate_extra_specs({k: v for k, v in specs.items()
                          if ":" in k and k.split(":", 1)[0] == _QUOTA_NAMESPACE})
