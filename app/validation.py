"""NHS number and UK postcode checks, with the messages the GOV.UK pattern asks for.

NHS number: punctuation and spaces are ignored; exactly 10 digits; the modulus 11 check
digit must match; numbers of one repeated digit pass the checksum but are never issued,
so they are refused too. Postcode: case, spaces and punctuation are ignored, then the
shape and the letters allowed in each position are checked (BS 7666 rules). A format check
does not prove a postcode exists.
"""

from __future__ import annotations

import re

_POSTCODE = re.compile(
    r"^(GIR 0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]"
    r"|[A-HK-Y][0-9][ABEHMNPRVWXY]) [0-9][ABD-HJLNP-UW-Z]{2})$"
)


class InvalidAnswer(ValueError):
    """A value that cannot be accepted; the message is shown to the user as it is."""


def nhs_number_check_digit_ok(digits: str) -> bool:
    total = sum(int(digit) * (10 - index) for index, digit in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def clean_nhs_number(raw: str) -> str:
    """Return the 10 digits of a valid NHS number or raise :class:`InvalidAnswer`."""
    if re.search(r"[A-Za-z]", raw):
        raise InvalidAnswer("NHS number must contain only numbers")
    digits = re.sub(r"\D", "", raw)
    if len(digits) != 10:
        raise InvalidAnswer("NHS number must be 10 digits")
    if len(set(digits)) == 1 or not nhs_number_check_digit_ok(digits):
        raise InvalidAnswer("Enter a valid NHS number. Check it against a letter or card")
    return digits


def normalise_postcode(raw: str) -> str:
    compact = re.sub(r"[^A-Za-z0-9]", "", raw).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) >= 5 else compact


def clean_postcode(raw: str) -> str:
    """Return the postcode in upper case with one space, or raise :class:`InvalidAnswer`."""
    postcode = normalise_postcode(raw)
    compact_length = len(postcode.replace(" ", ""))
    if not 5 <= compact_length <= 7 or not _POSTCODE.match(postcode):
        raise InvalidAnswer("Enter a real postcode, like LE19 2DR")
    return postcode
