"""What Asterisk's AMI events and CDR rows share: telling the office's side of a call from the client's.

Asterisk names a call's parties by channel ("PJSIP/101-0000002a") and number. An extension of the
integration's map, or a number of at most INTERNAL_DIGITS digits, is the office; anything else is
the outside world, which tells a call's direction.
"""

from __future__ import annotations

import re

from rapport.telephony.models import Extension, Integration

# Office extensions are short; the shortest outside numbers (emergency, short codes) are not dialled to clients.
INTERNAL_DIGITS = 5
_CHANNEL = re.compile(r"^[A-Za-z0-9_]+/(?P<peer>[^-@;/]+)")


def extensions_of(integration: Integration) -> set[str]:
    return set(Extension.objects.filter(integration=integration).values_list("number", flat=True))


def channel_extension(channel: str) -> str:
    """The peer of a channel name: "PJSIP/101-0000002a" → "101", "SIP/trunk-0001" → "trunk"; "" if none."""
    found = _CHANNEL.match(channel or "")
    return found.group("peer") if found else ""


def is_internal(number: str, extensions: set[str]) -> bool:
    number = (number or "").strip()
    if not number:
        return False
    return number in extensions or (number.isdigit() and len(number) <= INTERNAL_DIGITS)
