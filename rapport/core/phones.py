"""Phone numbers: parsed once with phonenumbers, stored so that any way of typing them finds the client.

A phone is kept three ways: as the person typed it (shown), as E.164 (matching calls
and duplicates), and as its digits reversed, so that a search for the last digits
("345-67-89") is a prefix range on an ordinary index in SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

NON_DIGITS = re.compile(r"\D")
# Fewer digits than this are too ambiguous to search by suffix.
MIN_SEARCH_DIGITS = 4


@dataclass(frozen=True)
class Phone:
    e164: str
    digits_reversed: str


def digits_of(text: str) -> str:
    return NON_DIGITS.sub("", text)


def phone_parse(raw: str, *, region: str | None = None) -> Phone:
    """Parse a phone as typed; raise ValidationError showing the expected format when it is not one."""
    region = (region or settings.DEFAULT_PHONE_REGION).upper()
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        international = phonenumbers.PhoneNumberFormat.INTERNATIONAL
        shown = phonenumbers.format_number(example, international) if example else "+1 201 555 0123"
        raise ValidationError(
            _("“%(value)s” is not a phone number. Write it like %(example)s."),
            code="invalid_phone",
            params={"value": raw, "example": shown},
        )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164=e164, digits_reversed=digits_of(e164)[::-1])


def phone_search_key(query: str) -> str | None:
    """The reversed digits to look up for a query that is a phone or its tail, or None if it is not one."""
    if re.search(r"[^\d\s()+\-.]", query):
        return None
    digits = digits_of(query)
    if len(digits) < MIN_SEARCH_DIGITS:
        return None
    # A national form with a trunk prefix ("8 912 …", "0 88 …") should match the stored international
    # digits; searching by the tail after the trunk digit does that without guessing the country.
    if len(digits) >= 10 and digits[0] in "08" and not query.strip().startswith("+"):
        digits = digits[1:]
    return digits[::-1]


def prefix_range(prefix: str) -> tuple[str, str]:
    """Bounds for ``prefix <= value < upper``: a prefix search any B-tree index can serve."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
