"""What an XML document can carry: XML 1.0's ``Char`` production, and lxml's refusal of
anything else. Nova builds its domain XML with lxml, so a flavor string holding such a
character (a vertical tab or form feed, which Python's ``int()`` strips as whitespace) fails in
Nova before libvirt sees it. The domain XML renderer and the flavor lint both ask; kept apart
from the renderer so that the lint (``vmqos validate``) does not load it.
"""

from __future__ import annotations

__all__ = ["LXML_INCOMPATIBLE", "lxml_refuses"]

# lxml's ValueError text (src/lxml/apihelpers.pxi _utf8), as Nova's compute log shows it.
LXML_INCOMPATIBLE = ("All strings must be XML compatible: Unicode or ASCII, no NULL bytes or "
                     "control characters")


def _xml_char(code: int) -> bool:
    """XML 1.0's Char production: what lxml lets into a text or attribute value."""
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def lxml_refuses(text: str) -> bool:
    """True if lxml raises :data:`LXML_INCOMPATIBLE` for ``text`` as a value: of the strings
    Nova's API takes as integers, those with a vertical tab or form feed (``int()`` strips
    them as whitespace, XML 1.0 has no such characters)."""
    return not all(_xml_char(ord(char)) for char in text)
