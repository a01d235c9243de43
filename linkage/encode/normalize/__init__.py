"""Agency-side normalisation of identifiers before keyed hashing.

Each ``normalize_*`` function takes one raw field value and returns its
normalised form, or ``None`` when the value cannot be parsed (the caller counts
it as unparseable). None of them raises on any ``str``. Placeholders such as
``unknown`` or ``John Doe`` are recognised by :func:`is_unknown_marker` so the
caller can count them as missing instead; the normalisers return ``None`` for
them as well, so a placeholder is never hashed. The package is pure: stdlib,
``jellyfish``, ``nicknames`` and ``anyascii`` only.
"""

from linkage.encode.normalize.address import normalize_city, normalize_street_address
from linkage.encode.normalize.contact import (
    normalize_phone,
    normalize_postcode,
    normalize_sex,
    normalize_ssn,
)
from linkage.encode.normalize.dates import normalize_birth_date
from linkage.encode.normalize.names import (
    NormalizedName,
    is_unknown_marker,
    normalize_family_name,
    normalize_given_name,
    normalize_middle_name,
)

__all__ = [
    "NormalizedName",
    "is_unknown_marker",
    "normalize_birth_date",
    "normalize_city",
    "normalize_family_name",
    "normalize_given_name",
    "normalize_middle_name",
    "normalize_phone",
    "normalize_postcode",
    "normalize_sex",
    "normalize_ssn",
    "normalize_street_address",
]
