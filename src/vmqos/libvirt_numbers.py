"""libvirt's grammar for the numbers in domain XML, and what it says when one is not a number.

libvirt reads ``<bandwidth>`` rates with ``virStrToLong_ullp`` (src/conf/netdev_bandwidth_conf.c
``virNetDevBandwidthParseRate``) and ``<iotune>`` values with ``virXPathULongLong``
(``virDomainDiskDefIotuneParse``, src/conf/domain_conf.c), which is ``virStrToLong_ullp`` on the
XPath string (src/util/virxml.c ``virXPathULongLongBase``; on 9.0 ``-0`` is refused, which the
older ``virStrToLong_ull`` form would take). ``virStrToLong_ullp``
(src/util/virstring.c) is C ``strtoull(s, &end, 10)`` plus three refusals: nothing may follow
the digits (``end_ptr`` is NULL, so ``*end`` must be NUL), a ``-`` anywhere in the parsed part,
and ``ERANGE``. So a value may have leading C whitespace and one ``+``, then ASCII digits, at
most 2^64-1 — and nothing else.

That is narrower than Python's ``int()``, which Nova's API uses to validate an extra spec: it
also takes trailing whitespace (``'12 '``), underscores (``'1_000'``), any Unicode decimal digit
(``'١٢'``, ``'１２'``), Unicode whitespace (``'\\u00a012'``) and ``'-0'``. Measured on libvirt 9.0
with ``virsh define`` (tests/libvirt/test_nova_verbatim_libvirt.py): every one of those is
refused with the message below; ``'007'``, ``' 12'``, ``'\\t12'`` and ``'+5'`` are accepted and
stored as 7, 12, 12 and 5.

Invariants: pure functions; the messages are libvirt's format strings, verbatim, and the
prefixes are what ``virErrorMsg`` puts before them for their error codes (what ``virsh`` and
Nova's ``libvirtError`` show).
"""

from __future__ import annotations

__all__ = [
    "CONFIG_UNSUPPORTED",
    "C_SPACE",
    "ULLONG_MAX",
    "XML_ERROR",
    "bandwidth_number_error",
    "iotune_number_error",
    "parse_ll",
    "parse_ullp",
]

ULLONG_MAX = (1 << 64) - 1
_LLONG_MIN, _LLONG_MAX = -(1 << 63), (1 << 63) - 1

# C isspace() in the "C" locale: what strtoull/strtoll skip before the number.
C_SPACE = " \t\n\v\f\r"

# virErrorMsg's text for VIR_ERR_CONFIG_UNSUPPORTED, VIR_ERR_XML_ERROR and
# VIR_ERR_ARGUMENT_UNSUPPORTED (src/util/virerror.c), as virsh prints it before the message.
CONFIG_UNSUPPORTED = "unsupported configuration: "
XML_ERROR = "XML error: "
ARGUMENT_UNSUPPORTED = "argument unsupported: "
# What libvirt says when QEMU refuses the block throttling it sends at start (virsh start here).
QEMU_THROTTLE_REFUSED = "internal error: unable to execute QEMU command 'block_set_io_throttle': "


def _digits(text: str) -> str | None:
    """``text`` if it is nothing but ASCII digits (what strtoull reads to the end), else None."""
    return text if text.isascii() and text.isdigit() else None


def parse_ullp(text: str) -> int | None:
    """``virStrToLong_ullp(text, NULL, 10, &v)``: the value, or ``None`` where libvirt fails."""
    body = _digits(text.lstrip(C_SPACE).removeprefix("+"))
    if body is None:
        return None
    value = int(body)
    return value if value <= ULLONG_MAX else None


def parse_ll(text: str) -> int | None:
    """``virStrToLong_ll(text, NULL, 10, &v)``: leading space, one sign, digits, 64 bits."""
    rest = text.lstrip(C_SPACE)
    negative = rest.startswith("-")
    body = _digits(rest[1:] if rest[:1] in ("+", "-") else rest)
    if body is None:
        return None
    value = -int(body) if negative else int(body)
    return value if _LLONG_MIN <= value <= _LLONG_MAX else None


def bandwidth_number_error(attribute: str, text: str) -> str:
    """``virNetDevBandwidthParseRate`` for an ``average``/``peak``/``burst``/``floor`` that is
    not a number (reported as VIR_ERR_CONFIG_UNSUPPORTED)."""
    return f"could not convert bandwidth {attribute} value '{text}'"


def iotune_number_error(field: str) -> str:
    """``virDomainDiskDefIotuneParse`` for an ``<iotune>`` child that is not a number
    (VIR_ERR_XML_ERROR); unlike the bandwidth message it does not quote the value."""
    return f"disk iotune field '{field}' must be an integer"
