"""Agency profiles: who each agency sees, how often, and how it keys identifiers.

Police CAD records are typed in the field and are the noisiest (nicknames,
typos, a tenth without a birth date, upper case, US dates); behavioural-health
records come from clinical intake and are the cleanest (ISO dates, SSN usually
known, diacritics kept); homeless services sit between, with mixed formats and
many shelter or missing addresses. Every rate here is a per-record probability
unless its docstring says otherwise, and the tests check that each one shows
up in the output at roughly that rate.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tools.synthetic.tables import Weighted

CANONICAL_COLUMNS = (
    "record_id", "given_name", "middle_name", "family_name", "birth_date", "sex",
    "street_address", "city", "postcode", "phone", "ssn",
)  # fmt: skip
DEFAULT_AGENCIES = ("police_cad", "behavioral_health", "homeless_services")
# Error rates that a sloppy record (keyed at a chaotic scene) multiplies.
SLOPPY_RATES = (
    "given_missing", "nickname", "given_variant", "given_typo", "family_variant",
    "family_typo", "middle_as_given", "name_swap", "case_noise", "whitespace_noise",
    "dob_missing", "dob_error", "sex_missing", "address_missing", "address_typo",
    "postcode_missing", "phone_missing", "ssn_missing", "ssn_typo",
)  # fmt: skip
SLOPPY_FACTOR = 3.0


@dataclass(frozen=True)
class AgencyProfile:
    """How one agency collects identifiers.

    Attributes:
        name: Agency key, also the CSV file stem.
        id_prefix: Start of the agency's record ids (``"CAD-"``).
        id_width: Zero-padded width of the number after the prefix.
        context_columns: Agency-specific columns after the canonical ones.
        reach: Relative chance that a housed person is known to the agency.
        homeless_reach: The same for a person without a home.
        count_weights: P(1 record), P(2 records), ... for an ordinary client.
        frequent_counts: Inclusive range of record counts for frequent utilisers.
        given_missing: Given name not recorded.
        nickname: Nickname instead of the given name (when one exists).
        given_variant: Other spelling of the given name (Steven/Stephen).
        given_typo: Keyboard slip in the given name.
        family_variant: Other spelling of the surname (Smith/Smyth).
        family_typo: Keyboard slip in the surname.
        particle_variant: Respelled particle or compound surname (De La Cruz).
        middle_missing: Middle name left out.
        middle_initial: Middle name cut to its initial (when not left out).
        middle_as_given: Middle name written as the given name.
        name_swap: Given and family name fields swapped.
        suffix_shown: Jr/II suffix written (halved for Sr).
        stale_surname: Old surname still used after a change.
        hyphenated_surname: After a change, old and new surnames hyphenated.
        strip_diacritics: Accents dropped from names.
        case_style: ``"upper"``, ``"title"`` or ``"mixed"`` (per record).
        case_noise: Case mangled in one name field.
        whitespace_noise: Stray spaces in one name field.
        dob_missing: Date of birth not recorded.
        dob_error: Wrong date of birth (when recorded).
        date_formats: Distribution of ``iso``/``us``/``compact`` date styles.
        sex_missing: Sex not recorded.
        sex_codes: (female, male) spellings used, one pair drawn per record.
        street_styles: Distribution of ``abbrev``/``full``/``dotted`` street spellings.
        address_missing: Street address not recorded (housed people).
        stale_address: Old address kept after a move.
        address_typo: Keyboard slip in street or city.
        postcode_missing: Postcode not recorded.
        homeless_address: What is written for a person without a home:
            ``shelter``, ``marker``, ``blank`` or ``last`` known address.
        phone_missing: Phone not recorded although the person has one.
        phone_formats: Distribution of phone styles.
        ssn_known: Per person: the agency knows the SSN at all.
        ssn_missing: SSN not on a record although the agency knows it.
        ssn_typo: One digit wrong or two swapped.
        ssn_dashes: SSN written with dashes.
        missing_markers: What is written for a missing value (repeats weight it).
        sloppy: Share of records keyed in a hurry, whose :data:`SLOPPY_RATES`
            are multiplied by :data:`SLOPPY_FACTOR`; errors cluster on them.
    """

    name: str
    id_prefix: str
    id_width: int
    context_columns: tuple[str, ...]
    reach: float
    homeless_reach: float
    count_weights: tuple[float, ...]
    frequent_counts: tuple[int, int]
    given_missing: float
    nickname: float
    given_variant: float
    given_typo: float
    family_variant: float
    family_typo: float
    particle_variant: float
    middle_missing: float
    middle_initial: float
    middle_as_given: float
    name_swap: float
    suffix_shown: float
    stale_surname: float
    hyphenated_surname: float
    strip_diacritics: float
    case_style: str
    case_noise: float
    whitespace_noise: float
    dob_missing: float
    dob_error: float
    date_formats: Weighted[str]
    sex_missing: float
    sex_codes: tuple[tuple[str, str], ...]
    street_styles: Weighted[str]
    address_missing: float
    stale_address: float
    address_typo: float
    postcode_missing: float
    homeless_address: Weighted[str]
    phone_missing: float
    phone_formats: Weighted[str]
    ssn_known: float
    ssn_missing: float
    ssn_typo: float
    ssn_dashes: float
    missing_markers: tuple[str, ...]
    sloppy: float

    @property
    def columns(self) -> tuple[str, ...]:
        """All CSV columns, canonical ones first."""
        return CANONICAL_COLUMNS + self.context_columns

    def hurried(self) -> AgencyProfile:
        """This profile as applied to a sloppy record."""
        return _hurried(self)


@functools.cache
def _hurried(profile: AgencyProfile) -> AgencyProfile:
    changes = {name: min(1.0, getattr(profile, name) * SLOPPY_FACTOR) for name in SLOPPY_RATES}
    return replace(profile, sloppy=1.0, **changes)


def _w(**weights: float) -> Weighted[str]:
    return Weighted.of(list(weights), list(weights.values()))


POLICE_CAD = AgencyProfile(
    name="police_cad", id_prefix="CAD-", id_width=7,
    context_columns=("weapons", "officer_safety_note", "language"),
    reach=0.45, homeless_reach=0.35,
    count_weights=(0.72, 0.14, 0.06, 0.04, 0.025, 0.015), frequent_counts=(5, 10),
    given_missing=0.01, nickname=0.2, given_variant=0.06, given_typo=0.06,
    family_variant=0.04, family_typo=0.05, particle_variant=0.5,
    middle_missing=0.55, middle_initial=0.3, middle_as_given=0.04, name_swap=0.03,
    suffix_shown=0.35, stale_surname=0.15, hyphenated_surname=0.15, strip_diacritics=1.0,
    case_style="upper", case_noise=0.05, whitespace_noise=0.08,
    dob_missing=0.07, dob_error=0.08, date_formats=_w(us=0.8, iso=0.1, compact=0.1),
    sex_missing=0.05, sex_codes=(("F", "M"),), street_styles=_w(abbrev=0.9, dotted=0.1),
    address_missing=0.10, stale_address=0.25, address_typo=0.05, postcode_missing=0.2,
    homeless_address=_w(shelter=0.25, marker=0.35, blank=0.2, last=0.2),
    phone_missing=0.45, phone_formats=_w(dashes=0.5, plain=0.2, parens=0.2, local=0.1),
    ssn_known=0.35, ssn_missing=0.3, ssn_typo=0.03, ssn_dashes=0.7,
    missing_markers=("UNKNOWN", "UNK", "", ""), sloppy=0.25,
)  # fmt: skip

BEHAVIORAL_HEALTH = AgencyProfile(
    name="behavioral_health", id_prefix="MRN", id_width=8,
    context_columns=(
        "crisis_plan", "clinician_contact", "language", "interpreter_needed", "substance_use_note",
    ),
    reach=0.30, homeless_reach=0.2,
    count_weights=(0.82, 0.18), frequent_counts=(2, 3),
    given_missing=0.0, nickname=0.06, given_variant=0.02, given_typo=0.015,
    family_variant=0.015, family_typo=0.015, particle_variant=0.1,
    middle_missing=0.25, middle_initial=0.15, middle_as_given=0.01, name_swap=0.005,
    suffix_shown=0.6, stale_surname=0.10, hyphenated_surname=0.2, strip_diacritics=0.3,
    case_style="title", case_noise=0.01, whitespace_noise=0.02,
    dob_missing=0.02, dob_error=0.02, date_formats=_w(iso=0.85, us=0.15),
    sex_missing=0.01, sex_codes=(("Female", "Male"),), street_styles=_w(full=0.5, abbrev=0.5),
    address_missing=0.05, stale_address=0.15, address_typo=0.015, postcode_missing=0.03,
    homeless_address=_w(shelter=0.35, marker=0.25, blank=0.15, last=0.25),
    phone_missing=0.15, phone_formats=_w(parens=0.7, dashes=0.2, dotted=0.1),
    ssn_known=0.75, ssn_missing=0.05, ssn_typo=0.01, ssn_dashes=0.9,
    missing_markers=("",), sloppy=0.05,
)  # fmt: skip

HOMELESS_SERVICES = AgencyProfile(
    name="homeless_services", id_prefix="HMIS-", id_width=6,
    context_columns=("shelter_status", "case_manager", "language"),
    reach=0.25, homeless_reach=0.6,
    count_weights=(0.75, 0.18, 0.07), frequent_counts=(3, 5),
    given_missing=0.005, nickname=0.14, given_variant=0.04, given_typo=0.04,
    family_variant=0.03, family_typo=0.035, particle_variant=0.3,
    middle_missing=0.5, middle_initial=0.25, middle_as_given=0.02, name_swap=0.015,
    suffix_shown=0.3, stale_surname=0.2, hyphenated_surname=0.15, strip_diacritics=0.6,
    case_style="mixed", case_noise=0.06, whitespace_noise=0.06,
    dob_missing=0.08, dob_error=0.06, date_formats=_w(iso=0.4, us=0.3, compact=0.3),
    sex_missing=0.04, sex_codes=(("F", "M"), ("Female", "Male"), ("female", "male")),
    street_styles=_w(abbrev=0.5, full=0.3, dotted=0.2),
    address_missing=0.15, stale_address=0.3, address_typo=0.04, postcode_missing=0.15,
    homeless_address=_w(shelter=0.5, marker=0.2, blank=0.1, last=0.2),
    phone_missing=0.35, phone_formats=_w(plain=0.4, dashes=0.3, parens=0.2, intl=0.1),
    ssn_known=0.55, ssn_missing=0.15, ssn_typo=0.02, ssn_dashes=0.3,
    missing_markers=("N/A", "", "", "UNKNOWN"), sloppy=0.15,
)  # fmt: skip

EMS = AgencyProfile(
    name="ems", id_prefix="EMS-", id_width=7,
    context_columns=("medical_alert", "language"),
    reach=0.3, homeless_reach=0.3,
    count_weights=(0.75, 0.15, 0.07, 0.03), frequent_counts=(3, 8),
    given_missing=0.01, nickname=0.12, given_variant=0.05, given_typo=0.05,
    family_variant=0.03, family_typo=0.04, particle_variant=0.3,
    middle_missing=0.5, middle_initial=0.3, middle_as_given=0.02, name_swap=0.02,
    suffix_shown=0.4, stale_surname=0.15, hyphenated_surname=0.1, strip_diacritics=0.8,
    case_style="upper", case_noise=0.04, whitespace_noise=0.05,
    dob_missing=0.08, dob_error=0.05, date_formats=_w(compact=0.5, us=0.5),
    sex_missing=0.03, sex_codes=(("F", "M"),), street_styles=_w(abbrev=0.8, full=0.2),
    address_missing=0.08, stale_address=0.2, address_typo=0.04, postcode_missing=0.1,
    homeless_address=_w(shelter=0.3, marker=0.3, blank=0.2, last=0.2),
    phone_missing=0.3, phone_formats=_w(plain=0.6, dashes=0.4),
    ssn_known=0.3, ssn_missing=0.3, ssn_typo=0.02, ssn_dashes=0.5,
    missing_markers=("", "UNK"), sloppy=0.1,
)  # fmt: skip

PROFILES: dict[str, AgencyProfile] = {
    p.name: p for p in (POLICE_CAD, BEHAVIORAL_HEALTH, HOMELESS_SERVICES, EMS)
}


def resolve_profiles(agencies: Sequence[str]) -> tuple[AgencyProfile, ...]:
    """Look up the profiles for the requested agencies.

    Args:
        agencies: Agency keys, e.g. ``("police_cad", "behavioral_health")``.

    Returns:
        The profiles in the requested order.

    Raises:
        ValueError: If the list is empty, repeats an agency or names an unknown one.
    """
    if not agencies or len(set(agencies)) != len(agencies):
        raise ValueError("agencies must be a non-empty list without repeats")
    unknown = [a for a in agencies if a not in PROFILES]
    if unknown:
        raise ValueError(f"unknown agencies {unknown}; known: {sorted(PROFILES)}")
    return tuple(PROFILES[a] for a in agencies)
