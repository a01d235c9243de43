"""Normalisation of street addresses and city names.

Addresses are transliterated to lower-case ASCII, stripped of punctuation and
rewritten with USPS Publication 28 abbreviations (``Street`` -> ``st``,
``North`` -> ``n``), number words (``Fifth`` -> ``5th``) and one unit
designator (``Apartment``, ``Apt``, ``Suite``, ``#`` -> ``unit``), so that the
spellings an agency's staff type interchangeably compare equal. Every rewrite
maps onto a form the rewrite leaves alone, which makes normalisation
idempotent. Cities get the same cleaning and the ``Saint``/``Mount``/``Fort``
abbreviations.
"""

from __future__ import annotations

import functools
import re

from anyascii import anyascii

from linkage.encode.normalize.names import is_unknown_marker

__all__ = ["normalize_city", "normalize_street_address"]

_DROP_APOSTROPHES = str.maketrans("", "", "'`\u2018\u2019\u02bc")
# A period between single letters is an initialism: "n.e." -> "ne", "p.o." -> "po".
# The pattern starts with the literal "." so the regex engine can skip ahead to it.
_INITIALISM_DOT = re.compile(r"\.(?<=\b[a-z]\.)(?=[a-z]\b)")
_PO_BOX = re.compile(r"\b(?:post\s+office|p\s*o)\s*box\b")
_TOKEN = re.compile(r"[a-z0-9]+")

_UNIT = "unit"
_UNIT_DESIGNATORS = frozenset({"apartment", "apt", "appt", "unit", "suite", "ste"})
_DIRECTIONALS = {
    "north": "n", "south": "s", "east": "e", "west": "w",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}  # fmt: skip
_ORDINALS = {
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
    "sixth": "6th", "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th",
    "eleventh": "11th", "twelfth": "12th",
}  # fmt: skip
# USPS Publication 28, Appendix C1: common suffix names and their misspellings.
_STREET_SUFFIXES = {
    "alley": "aly", "allee": "aly", "annex": "anx", "arcade": "arc", "avenue": "ave",
    "av": "ave", "aven": "ave", "avenu": "ave", "avn": "ave", "avnue": "ave",
    "bayou": "byu", "beach": "bch", "bend": "bnd", "bluff": "blf", "boulevard": "blvd",
    "boul": "blvd", "boulv": "blvd", "branch": "br", "bridge": "brg", "brook": "brk",
    "bypass": "byp", "causeway": "cswy", "center": "ctr", "centre": "ctr", "circle": "cir",
    "circ": "cir", "cliff": "clf", "club": "clb", "corner": "cor", "court": "ct",
    "cove": "cv", "creek": "crk", "crescent": "cres", "crest": "crst", "crossing": "xing",
    "drive": "dr", "driv": "dr", "drv": "dr", "estates": "ests", "expressway": "expy",
    "extension": "ext", "falls": "fls", "ferry": "fry", "field": "fld", "fields": "flds",
    "ford": "frd", "forest": "frst", "fort": "ft", "freeway": "fwy", "garden": "gdn",
    "gardens": "gdns", "gateway": "gtwy", "glen": "gln", "green": "grn", "grove": "grv",
    "harbor": "hbr", "haven": "hvn", "heights": "hts", "highway": "hwy", "hiway": "hwy",
    "hill": "hl", "hills": "hls", "hollow": "holw", "junction": "jct", "lake": "lk",
    "lakes": "lks", "landing": "lndg", "lane": "ln", "manor": "mnr", "meadow": "mdw",
    "meadows": "mdws", "mill": "ml", "mount": "mt", "mountain": "mtn", "parkway": "pkwy",
    "pkway": "pkwy", "place": "pl", "plaza": "plz", "point": "pt", "prairie": "pr",
    "ranch": "rnch", "ridge": "rdg", "river": "riv", "road": "rd", "route": "rte",
    "shore": "shr", "spring": "spg", "springs": "spgs", "square": "sq", "station": "sta",
    "street": "st", "str": "st", "strt": "st", "saint": "st", "summit": "smt",
    "terrace": "ter", "trace": "trce", "trail": "trl", "tunnel": "tunl", "turnpike": "tpke",
    "valley": "vly", "view": "vw", "village": "vlg", "vista": "vis",
}  # fmt: skip
_ADDRESS_WORDS = {**_STREET_SUFFIXES, **_DIRECTIONALS, **_ORDINALS}
_CITY_WORDS = {"saint": "st", "sainte": "ste", "mount": "mt", "fort": "ft"}


def normalize_street_address(raw: str) -> str | None:
    """Normalise a street address line.

    Args:
        raw: The raw address, e.g. ``"123 North Main Street, Apt. #4"``.

    Returns:
        The normalised address (``"123 n main st unit 4"``), or None when it is
        empty, a placeholder or has no letters or digits.
    """
    return _address_cached(raw)


# Co-response clients recur across an agency's records, and so do their addresses.
@functools.lru_cache(maxsize=1 << 16)
def _address_cached(raw: str) -> str | None:
    tokens = _tokens(raw, address=True)
    if not tokens:
        return None
    words: list[str] = []
    for token in tokens:
        word = _UNIT if token in _UNIT_DESIGNATORS else _ADDRESS_WORDS.get(token, token)
        if not (word == _UNIT and words and words[-1] == _UNIT):
            words.append(word)
    return " ".join(words)


def normalize_city(raw: str) -> str | None:
    """Normalise a city name.

    Args:
        raw: The raw city, e.g. ``"St. Louis"``, ``"Coeur d'Alene"``.

    Returns:
        The normalised city (``"st louis"``, ``"coeur dalene"``), or None when
        it is empty, a placeholder or has no letters or digits.
    """
    return _city_cached(raw)


@functools.lru_cache(maxsize=1 << 14)
def _city_cached(raw: str) -> str | None:
    # Cities repeat as much as names do, so they are cached like names.
    tokens = _tokens(raw, address=False)
    return " ".join(_CITY_WORDS.get(t, t) for t in tokens) if tokens else None


def _tokens(raw: str, *, address: bool) -> list[str]:
    """Lower-case ASCII words of a value, punctuation dropped.

    For addresses, "#" also becomes the word "unit" and the spellings of a post
    office box become "po box".
    """
    if is_unknown_marker(raw):
        return []
    text = (raw if raw.isascii() else anyascii(raw)).lower().translate(_DROP_APOSTROPHES)
    # The substring tests skip regexes that rarely apply; they dominate the cost.
    if "." in text:
        text = _INITIALISM_DOT.sub("", text)
    if address and "#" in text:
        text = text.replace("#", " unit ")
    text = " ".join(_TOKEN.findall(text))
    if is_unknown_marker(text):  # again after cleaning: "Ù" -> "u", "N.F.A." -> "nfa"
        return []
    if address and "box" in text:
        text = _PO_BOX.sub("po box", text)
    return text.split()
