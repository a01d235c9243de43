"""Normalisation of phone numbers, social security numbers, sex and postcodes.

Each function reduces a value to the digits or code that identify it and
rejects values that cannot be real: phone numbers outside the North American
numbering plan's 10 digits, SSNs in ranges the Social Security Administration
never issues (and the famous fakes), ZIP codes of all zeros. Rejected values
return ``None`` and are counted as unparseable by the caller.
"""

from __future__ import annotations

import re

__all__ = ["normalize_phone", "normalize_postcode", "normalize_sex", "normalize_ssn"]

# Longer text is no phone number or sex; the cap also bounds regex work on hostile input.
_MAX_LENGTH = 60
_EXTENSION = re.compile(r"(?:ext(?:ension)?|x|#)\.?\s*\d{1,6}\s*\Z", re.ASCII | re.IGNORECASE)
_NON_DIGITS = re.compile(r"[^0-9]+")
_SSN = re.compile(r"(\d{3})[\s.-]*(\d{2})[\s.-]*(\d{4})(?:\.0+)?", re.ASCII)
# The SSA's advertising and wallet-insert numbers, used as fakes ever since.
_FAKE_SSNS = frozenset({"123456789", "078051120", "219099999"})
# FEBRL's soc_sec_id: 7-8 digit ids without the US area/group/serial structure.
_SHORT_ID = re.compile(r"\d{7,8}", re.ASCII)
_ZIP = re.compile(r"(\d{5})(?:[\s-]?\d{4})?(?:\.0+)?", re.ASCII)
_POSTCODE_4 = re.compile(r"(\d{4})(?:\.0+)?", re.ASCII)
_NON_LETTERS = re.compile(r"[^a-z]+")
_SEX_CODES = {
    "m": "m", "male": "m", "man": "m", "boy": "m",
    "f": "f", "female": "f", "woman": "f", "girl": "f",
    "x": "x", "nonbinary": "x", "nb": "x", "other": "x",
}  # fmt: skip


def normalize_phone(raw: str) -> str | None:
    """Reduce a US phone number to its 10 digits.

    Accepts any punctuation (``(555) 123-4567``, ``555.123.4567``), a leading
    country code (``+1``, ``1-``) and drops a trailing extension (``x12``,
    ``ext. 12``, ``#12``).

    Args:
        raw: The raw phone number.

    Returns:
        Ten digits, or None for a wrong digit count, an area code starting with
        0 or 1, or a number of one repeated digit.
    """
    if len(raw) > _MAX_LENGTH:
        return None
    digits = _NON_DIGITS.sub("", _EXTENSION.sub("", raw.strip()))
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or _one_digit_repeated(digits):
        return None
    return digits


def normalize_ssn(raw: str) -> str | None:
    """Reduce a social security number to its 9 digits (or a 7-8 digit id as is).

    Args:
        raw: The raw SSN, e.g. ``"123-45-6789"``, ``"123 45 6789"``.

    Returns:
        Nine digits (or a bare 7-8 digit id unchanged), or None when the number
        is malformed, in a never-issued range (area 000, 666 or 9xx; group 00;
        serial 0000), a single repeated digit, or a well-known fake
        (``123-45-6789``, ``078-05-1120``).
    """
    text = raw.strip()
    if _SHORT_ID.fullmatch(text):
        # 7-8 digit social-security style numbers (e.g. the FEBRL benchmark's
        # Australian-style ids) carry no US area/group structure: keep the digits.
        return None if _one_digit_repeated(text) else text
    match = _SSN.fullmatch(text)
    if match is None:
        return None
    area, group, serial = match.groups()
    digits = area + group + serial
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return None
    if digits in _FAKE_SSNS or _one_digit_repeated(digits):
        return None
    return digits


def normalize_sex(raw: str) -> str | None:
    """Map a recorded sex to ``"m"``, ``"f"`` or ``"x"``.

    Case, spaces and punctuation are ignored (``Non-binary`` -> ``x``). ``U``,
    ``unknown`` and anything unrecognised give None; :func:`is_unknown_marker`
    tells the caller that ``U`` and ``unknown`` mean "missing".

    Args:
        raw: The raw value, e.g. ``"M"``, ``"female"``, ``"X"``.

    Returns:
        ``"m"``, ``"f"``, ``"x"`` or None.
    """
    if len(raw) > _MAX_LENGTH:
        return None
    return _SEX_CODES.get(_NON_LETTERS.sub("", raw.lower()))


def normalize_postcode(raw: str) -> str | None:
    """Reduce a postcode to a 5-digit US ZIP or a 4-digit Australian postcode.

    ZIP+4 (``12345-6789``, ``123456789``) keeps its first five digits. Four
    digits are kept as they are: the FEBRL benchmark files use Australian
    postcodes.

    Args:
        raw: The raw postcode.

    Returns:
        Five or four digits, or None (including all zeros).
    """
    text = raw.strip()
    match = _ZIP.fullmatch(text) or _POSTCODE_4.fullmatch(text)
    if match is None or match.group(1).strip("0") == "":
        return None
    return match.group(1)


def _one_digit_repeated(digits: str) -> bool:
    return digits.count(digits[0]) == len(digits)
