"""Plaintext rules: what looks like a raw identifier where only encodings belong.

:mod:`linkage.admission.validation` refuses such values with reason
``looks_like_plaintext`` (what a privacy officer expects of a hub that must never
hold raw identifiers). The functions here say *whether* and *why* in safe words;
they never return or log the value itself.

* *Tokens* must be exactly 16 lowercase hex digits (64-bit truncated HMACs). Any
  other string or number where a token belongs is refused. A 16-digit decimal
  number is indistinguishable from a token and passes: about 1 token in 1,850 is
  all digits, so refusing them would refuse honest records.
* *Filters* must be canonical base64. A string that is not, or that decodes to a
  length no filter can have (a multiple of 8 bytes between 8 and 2,048), is
  refused as plaintext; a plausible filter of the wrong size for the schema is
  ``malformed_filter``. Under a ``balance`` schema every filter holds exactly
  half of its bits set (the filter joined with its complement), so any other bit
  count means base64-wrapped plaintext or an unhardened filter, both refused: a
  random blob of the right length passes this by chance only about 1 time in 30,
  and ASCII text (high bit always clear) practically never. Without a schema only
  the structural checks apply, so the service should always pass its schema.
* *Top-level fields* other than the seven the encoder writes (``"given_name"``,
  ``"dob"``, ``"ssn"``, …) are refused: the encoder never writes them, so they are
  a leak or a bug, and the safe reading is the alarming one.
* *Record ids* must be opaque agency keys. Refused when they contain ``@``
  (e-mail), an SSN (``123-45-6789``, a run of exactly 9 digits), a US phone
  (``(555) 123-4567``, a run of 10 digits, or 11 beginning with 1), a valid
  calendar date (``1980-01-02``, ``01/02/1980``, an isolated run of 8 digits that
  reads as YYYYMMDD or MMDDYYYY), or two alphabetic words separated by a space or
  comma (``"Smith, John"``). Date-stamped incident numbers are refused too: the
  hub cannot tell an incident date from a birth date, and agencies can issue
  undated ids.
* *Context* values are free text by design (encrypted at rest, released per
  category by policy), so they are not scanned. Context *keys* that name a direct
  identifier are refused by name: an SSN (any spelling) in every category,
  because no responder needs it and linkage already has its encoding; names,
  birth date, address, postcode, phone and e-mail everywhere except ``identity``,
  the category that policy treats as identifying (display name, aliases), so
  they cannot ride under a more widely shared category such as ``housing``. Sex
  and city are left alone: they identify little and have clinical and housing
  uses.
"""

from __future__ import annotations

import binascii
import datetime
import re
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "FILTER_BYTES_RANGE",
    "TOKEN",
    "accepted_filters",
    "filter_base64_chars",
    "filter_problem",
    "identifier_key_problem",
    "record_id_plaintext_kind",
    "token_item_problem",
    "well_formed_filter",
]

TOKEN = re.compile(r"[0-9a-f]{16}")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
FILTER_BYTES_RANGE = (8, 2048)  # schema filter_bits in [64, 8192], doubled when balanced


# --- record ids -------------------------------------------------------------------

_SSN = re.compile(r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)")
_PHONE = re.compile(r"(?<!\d)\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?!\d)")
_YMD = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_MDY = re.compile(r"(?<!\d)(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|(?<=/)\d{2})(?!\d)")
_NAME_WORDS = re.compile(r"[^\W\d_]{2,}(?:\s*,\s*|\s+)[^\W\d_]{2,}")
_DIGIT_RUN = re.compile(r"\d+")


def _is_date(year: int, month: int, day: int) -> bool:
    if year < 100:
        year += 1900
    if not 1900 <= year <= 2099:
        return False
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _has_date(text: str) -> bool:
    for y, m, d in _YMD.findall(text):
        if _is_date(int(y), int(m), int(d)):
            return True
    for a, _, b, y in _MDY.findall(text):
        if _is_date(int(y), int(a), int(b)) or _is_date(int(y), int(b), int(a)):
            return True
    return False


def _digit_run_kind(run: str) -> str | None:
    if len(run) == 9:
        return "an SSN"
    if len(run) == 10 or (len(run) == 11 and run.startswith("1")):
        return "a phone number"
    # Eight digits are a date only with a four-digit year (zero-padded counters
    # such as MRN00000101 must not read as 1900-01-01).
    if len(run) == 8 and (
        (run[0] != "0" and _is_date(int(run[:4]), int(run[4:6]), int(run[6:])))
        or (run[4] != "0" and _is_date(int(run[4:]), int(run[:2]), int(run[2:4])))
    ):
        return "a date"
    return None


def record_id_plaintext_kind(record_id: str) -> str | None:
    """What plaintext identifier ``record_id`` looks like, or ``None`` if it looks opaque.

    Returns:
        A short description safe to show ("an SSN", "a date", ...), never the value.
    """
    if "@" in record_id:
        return "an e-mail address"
    if _SSN.search(record_id):
        return "an SSN"
    if _PHONE.search(record_id):
        return "a phone number"
    if _has_date(record_id):
        return "a date"
    for run in _DIGIT_RUN.findall(record_id):
        kind = _digit_run_kind(run)
        if kind:
            return kind
    if _NAME_WORDS.search(record_id):
        return "a person's name"
    return None


# --- context keys -----------------------------------------------------------------

_SSN_KEYS = frozenset(
    {"ssn", "ssn_last4", "last4_ssn", "social_security", "social_security_number",
     "social_security_no", "soc_sec_no", "ss_number", "ss_no"}
)  # fmt: skip
_IDENTITY_ONLY_KEYS = frozenset(
    {"given_name", "first_name", "firstname", "fname", "forename",
     "middle_name", "middlename", "mname", "middle_initial",
     "family_name", "last_name", "lastname", "surname", "lname",
     "name", "full_name", "fullname", "legal_name",
     "birth_date", "birthdate", "date_of_birth", "dob", "birthday",
     "street_address", "address", "home_address", "residence_address",
     "address_1", "address_2", "address1", "address2",
     "postcode", "postal_code", "zip", "zipcode", "zip_code",
     "phone", "phone_number", "telephone", "mobile", "cell_phone", "home_phone",
     "email", "email_address", "e_mail"}
)  # fmt: skip


def identifier_key_problem(category: str, key: str) -> str | None:
    """Why a context key names a direct identifier not allowed in ``category``."""
    normal = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")
    if normal in _SSN_KEYS:
        return "an SSN is never accepted as context, in any category"
    if normal in _IDENTITY_ONLY_KEYS and category != "identity":
        return "direct identifiers are accepted as context only under 'identity'"
    return None


# --- tokens and filters -----------------------------------------------------------


def token_item_problem(item: object) -> str | None:
    """The reason code for one token value (``None``: it is a token)."""
    if isinstance(item, str) and TOKEN.fullmatch(item):
        return None
    if isinstance(item, (str, int, float)) and not isinstance(item, bool):
        return "looks_like_plaintext"
    return "malformed_token"


def filter_problem(value: object, size: int | None, balanced: bool) -> tuple[str, str] | None:
    """Why ``value`` is not a filter of ``size`` bytes (any plausible size if ``None``).

    Returns:
        ``(reason code, text)`` or ``None``; the text never holds the value.
    """
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return "malformed_filter", "must be a base64 string"
    if not isinstance(value, str) or not value or not _BASE64.fullmatch(value):
        return "looks_like_plaintext", "is not base64: plaintext is refused where a filter belongs"
    try:
        raw = binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error:  # pragma: no cover - the pattern admits only valid base64
        return "looks_like_plaintext", "is not base64: plaintext is refused"
    lo, hi = FILTER_BYTES_RANGE
    if len(raw) % 8 or not lo <= len(raw) <= hi:
        return "looks_like_plaintext", "decodes to a length no filter has: plaintext is refused"
    if size is not None and len(raw) != size:
        return "malformed_filter", f"has the wrong length (the schema's filter has {size} bytes)"
    ones = int.from_bytes(raw, "little").bit_count()
    if balanced and ones * 2 != len(raw) * 8:
        return "looks_like_plaintext", (
            "is not a balanced filter (exactly half of its bits set): "
            "plaintext and unhardened encodings are refused"
        )
    if ones in (0, len(raw) * 8):
        return "malformed_filter", "has no bit set or every bit set"
    return None


def filter_base64_chars(size: int) -> int | None:
    """Length of the base64 text of a filter of ``size`` bytes (``None``: no filter
    can have that size, so none is ever accepted by :func:`well_formed_filter`)."""
    lo, hi = FILTER_BYTES_RANGE
    if size % 8 or not lo <= size <= hi:
        return None
    return 4 * -(-size // 3)


def well_formed_filter(value: object, size: int, chars: int, balanced: bool) -> bool:
    """Fast acceptance: exactly when :func:`filter_problem` finds nothing.

    ``chars`` is :func:`filter_base64_chars` of ``size``. Strict base64 decoding of
    text of exactly that length to exactly ``size`` bytes admits only canonical,
    correctly padded base64, as the pattern of :func:`filter_problem` does.
    """
    if type(value) is not str or len(value) != chars:
        return False
    try:
        raw = binascii.a2b_base64(value, strict_mode=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        return False
    if len(raw) != size:
        return False
    ones = int.from_bytes(raw, "little").bit_count()
    if balanced:
        return ones * 2 == size * 8
    return 0 < ones < size * 8


def accepted_filters(
    filters: Sequence[object],
    specs: Mapping[str, tuple[int, int]],
    *,
    balanced: bool,
    max_filters: int,
) -> list[bool]:
    """Which ``filters`` objects hold only filters :func:`well_formed_filter` accepts.

    Decided per filter name over a whole batch: one strict base64 pass and one
    vectorised bit count per name. A ``False`` means "look closer" (the caller
    explains it with :func:`filter_problem`); a name whose values do not all
    decode cleanly is re-checked value by value.

    Args:
        filters: Each line's ``filters`` object (anything; only dicts can pass).
        specs: Filter name → ``(bytes, base64 characters)`` of the filters to accept.
        balanced: Whether exactly half of every filter's bits must be set.
        max_filters: The most filters one record may hold.
    """
    ok = [type(f) is dict and len(f) <= max_filters and f.keys() <= specs.keys() for f in filters]
    for name, (size, chars) in specs.items():
        rows = [i for i, f in enumerate(filters) if ok[i] and name in f]  # type: ignore[operator]
        values = [filters[i][name] for i in rows]  # type: ignore[index]
        for row, good in zip(rows, _accepted_values(values, size, chars, balanced), strict=True):
            ok[row] = ok[row] and good
    return ok


def _accepted_values(values: list[object], size: int, chars: int, balanced: bool) -> list[bool]:
    """:func:`well_formed_filter` of every value, vectorised when all decode cleanly."""
    if not values:
        return []
    try:
        if not all(type(v) is str and len(v) == chars for v in values):
            raise ValueError
        raw = [binascii.a2b_base64(v, strict_mode=True) for v in values]  # type: ignore[arg-type]
        if set(map(len, raw)) != {size}:
            raise ValueError
    except ValueError:  # binascii.Error too: re-check one by one
        return [well_formed_filter(v, size, chars, balanced) for v in values]
    bits = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(len(raw), size)
    ones = np.bitwise_count(bits).sum(axis=1, dtype=np.int64)
    good = ones * 2 == size * 8 if balanced else (ones > 0) & (ones < size * 8)
    return good.tolist()  # type: ignore[no-any-return]
