"""Normalisation of given, middle and family names before keyed hashing.

A raw name is transliterated to ASCII (``anyascii``), lower-cased, stripped of
apostrophes (``O'Brien`` -> ``obrien``) and split into parts on any other
punctuation or whitespace. Leading titles (``Dr``, ``Mrs``) are dropped and a
trailing generational suffix (``Jr``, ``III``) is moved into
:attr:`NormalizedName.suffix`. Family-name particles (``de la``, ``van der``)
are joined to the part that follows them, so ``De La Cruz`` and ``DeLaCruz``
agree. Given names also get canonical forms from the ``nicknames`` table
(``bill`` -> ``robert``, ``william``) and every name gets a Metaphone code.
Results are cached: names repeat heavily across the records of an agency.
Placeholder values (``unknown``, ``John Doe``) are recognised by
:func:`is_unknown_marker`; the name functions return ``None`` for them too, so a
placeholder is never hashed as if it were a name.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import jellyfish
from anyascii import anyascii
from nicknames import NickNamer

__all__ = [
    "NormalizedName",
    "is_unknown_marker",
    "normalize_family_name",
    "normalize_given_name",
    "normalize_middle_name",
]

_DROP_APOSTROPHES = str.maketrans("", "", "'`\u2018\u2019\u02bc")
_DIGIT = re.compile(r"[0-9]")
_WORD = re.compile(r"[a-z]+|[0-9]+(?:st|nd|rd|th)?")

_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "mister", "dr", "rev", "revd", "prof", "sir", "fr"}
)
_SUFFIXES = {
    "jr": "jr", "junior": "jr", "sr": "sr", "senior": "sr",
    "ii": "ii", "2nd": "ii", "iii": "iii", "3rd": "iii", "iv": "iv", "4th": "iv",
}  # fmt: skip
# "Junior" is also a given name in its own right, so a name that is only the
# word is kept; a bare abbreviation ("Jr", "III") is no name at all.
_SUFFIX_WORDS = frozenset({"junior", "senior"})
# Particles joined to the following part. Beyond the usual European ones, "mc",
# "mac", "o", "d" and "st" catch "Mc Donald", "O Brien" (apostrophe turned into
# a space upstream), "D Angelo" and "St John"; "al"/"el" catch "Al Hassan".
_PARTICLES = frozenset(
    {"de", "del", "della", "des", "du", "da", "das", "dos", "di", "le", "la", "van", "von",
     "der", "den", "ter", "ten", "mc", "mac", "o", "d", "st", "al", "el"}
)  # fmt: skip
_PARTICLE_ALIASES = {"saint": "st"}

_UNKNOWN_MARKERS = frozenset(
    {"unknown", "unk", "unkn", "u", "not known", "n/k", "n/a", "n.a.", "none", "null", "nil",
     "#n/a", "missing", "-", "--", "---", "?", "??", "???", ".", "...", "xxx", "xxxx", "xxxxx",
     "refused", "declined", "not provided", "not stated", "not given", "not applicable",
     "john doe", "jane doe", "doe john", "doe jane", "baby boy", "baby girl",
     "fnu", "lnu", "nfn", "nln", "nmn", "nmi",
     "homeless", "transient", "unhoused", "no fixed address", "no fixed abode", "nfa",
     "general delivery"}
)  # fmt: skip
_MARKER_STRIP = " \"'()[]<>{}"
_MAX_MARKER_LENGTH = 32

# Metaphone rather than NYSIIS: on a hand-made set of 69 US spelling variants
# (catherine/katherine, jeff/geoff, smith/smyth, wright/right) Metaphone gave the
# same code to 52 pairs and NYSIIS to 47, for about twice NYSIIS's collision rate
# between distinct names (0.20 % vs 0.10 % of pairs over the 2,161 names of the
# nickname table). The code feeds blocking, where a missed pair is lost for good
# while an extra candidate pair is cheap, so recall wins.
_phonetic = jellyfish.metaphone


@dataclass(frozen=True, slots=True)
class NormalizedName:
    """A cleaned name with the derived values the encoder hashes.

    Attributes:
        text: Lower-case ASCII parts joined by single spaces.
        parts: The parts of ``text`` (compound surnames keep each part).
        canonical_forms: Given names: up to three formal names from the nickname
            table, sorted (the name itself when it is formal or unknown).
            Family names: ``text`` without spaces.
        phonetic: Metaphone of the first part (given names) or of the joined
            parts (family names).
        suffix: Generational suffix found in the name (``jr``, ``sr``, ``ii``,
            ``iii``, ``iv``) or ``""``.
    """

    text: str
    parts: tuple[str, ...]
    canonical_forms: tuple[str, ...]
    phonetic: str
    suffix: str


def is_unknown_marker(raw: str) -> bool:
    """Tell whether a raw value is a placeholder for a missing value.

    Blank values, ``unknown``, ``n/a``, ``null``, ``-``, ``?``, ``xxx``,
    ``refused``, placeholder names such as ``John Doe`` or ``FNU`` (first name
    unknown) and the like count as missing rather than unparseable. So do
    ``homeless``, ``transient`` and ``general delivery``: in an address field
    they are shared by many people and identify none of them. The check
    ignores case, surrounding brackets/quotes and runs of spaces, commas or
    underscores. ``U`` is a marker (the usual "sex unknown" code), at the cost
    of the rare middle initial U.

    Args:
        raw: The raw field value.

    Returns:
        True when the value stands for "no value".
    """
    text = raw.strip()
    if len(text) > _MAX_MARKER_LENGTH:  # no marker is this long
        return False
    key = text.lower()
    if not key or key in _UNKNOWN_MARKERS:
        return True
    # A plain word was just looked up as it is, and no marker holds a digit:
    # together these skip the cleaning below for nearly every real value.
    if key.isalpha() or _DIGIT.search(key):
        return False
    key = " ".join(key.replace(",", " ").replace("_", " ").split()).strip(_MARKER_STRIP)
    return not key or key in _UNKNOWN_MARKERS


def normalize_given_name(raw: str) -> NormalizedName | None:
    """Normalise a given (first) name.

    ``text`` and ``parts`` cover the whole field; ``canonical_forms`` and
    ``phonetic`` are taken from its first part only.

    Args:
        raw: The raw given name, e.g. ``"Dr. José-Luis"``.

    Returns:
        The normalised name, or None when nothing name-like is left.
    """
    return _given_cached(raw)


def normalize_middle_name(raw: str) -> NormalizedName | None:
    """Normalise a middle name (or initial) exactly like a given name.

    Args:
        raw: The raw middle name, e.g. ``"J."``.

    Returns:
        The normalised name, or None when nothing name-like is left.
    """
    return _given_cached(raw)


def normalize_family_name(raw: str) -> NormalizedName | None:
    """Normalise a family (last) name.

    Particles are joined to the following part (``van der Berg`` ->
    ``vanderberg``); hyphenated or space-separated compound names keep one part
    each (``García-López`` -> ``("garcia", "lopez")``).

    Args:
        raw: The raw family name.

    Returns:
        The normalised name, or None when nothing name-like is left.
    """
    return _family_cached(raw)


@functools.lru_cache(maxsize=1 << 16)
def _given_cached(raw: str) -> NormalizedName | None:
    cleaned = _clean(raw)
    if cleaned is None:
        return None
    parts, suffix = cleaned
    first = parts[0]
    return NormalizedName(" ".join(parts), parts, _canonical_forms(first), _phonetic(first), suffix)


@functools.lru_cache(maxsize=1 << 17)
def _family_cached(raw: str) -> NormalizedName | None:
    cleaned = _clean(raw)
    if cleaned is None:
        return None
    parts, suffix = _join_particles(cleaned[0]), cleaned[1]
    joined = "".join(parts)
    # Joining can spell a title or a placeholder ("D R" -> "dr", "De Clined").
    if parts[0] in _TITLES or is_unknown_marker(" ".join(parts)):
        return None
    return NormalizedName(" ".join(parts), parts, (joined,), _phonetic(joined), suffix)


def _clean(raw: str) -> tuple[tuple[str, ...], str] | None:
    """Split a raw name into letter-only parts and a generational suffix.

    Digits are dropped, except that a trailing "2nd"/"3rd"/"4th" is a suffix.
    Titles are only stripped at the start and suffixes only at the end, so the
    result is stable when cleaned again.
    """
    if is_unknown_marker(raw):
        return None
    text = raw if raw.isascii() else anyascii(raw)
    words = [
        w
        for w in _WORD.findall(text.lower().translate(_DROP_APOSTROPHES))
        if w[0].isalpha() or w in _SUFFIXES
    ]
    start = 0
    while start < len(words) and (words[start] in _TITLES or words[start][0].isdigit()):
        start += 1
    end, suffix = len(words), ""
    while end > start + 1 and words[end - 1] in _SUFFIXES:
        suffix = suffix or _SUFFIXES[words[end - 1]]
        end -= 1
    parts = tuple(w for w in words[start:end] if w[0].isalpha())
    if not parts or (len(parts) == 1 and parts[0] in _SUFFIXES and parts[0] not in _SUFFIX_WORDS):
        return None
    # Checked again after cleaning: "Mr. John Doe" or "Ù" (-> "u") are placeholders too.
    return None if is_unknown_marker(" ".join(parts)) else (parts, suffix)


def _join_particles(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Join runs of particles to the next part: ("de", "la", "cruz") -> ("delacruz",).

    A join that spells a particle again ("d" + "a" -> "da") keeps joining, so
    the result is stable when cleaned again.
    """
    joined: list[str] = []
    pending = ""
    for part in parts:
        word = _PARTICLE_ALIASES.get(part, part)
        if word in _PARTICLES or pending + word in _PARTICLES:
            pending += word
        else:
            joined.append(pending + word)
            pending = ""
    if pending:
        joined.append(pending)
    return tuple(joined)


@functools.lru_cache(maxsize=1 << 14)
def _canonical_forms(name: str) -> tuple[str, ...]:
    """Canonical (formal) forms of one lower-case given-name part.

    The ``nicknames`` table lists formal -> nickname pairs but does not mark
    which names are formal, and it holds many pairs in both directions
    (``bill`` -> ``william`` and ``william`` -> ``bill``) or formal -> formal
    (``mary`` -> ``marietta``). So a listed "canonical" counts only when it has
    more nicknames than the name itself and is not shorter than it; the most
    common formal US given names (:data:`_FORMAL_NAMES`) always stand for
    themselves, always count as canonical and rank first (``johnny`` ->
    ``john``, ``johannes``). After them the candidates with most nicknames
    come first (ties by name); the first three are kept, sorted by name.

    Args:
        name: One name part, lower-case ASCII letters.

    Returns:
        ``(name,)`` for a formal or unlisted name, else up to three formal names.
    """
    if name in _FORMAL_NAMES:
        return (name,)
    counts, canonicals_of = _nickname_table()
    own = counts.get(name, 0)
    candidates = [
        c
        for c in canonicals_of.get(name, ())
        if c in _FORMAL_NAMES or (counts[c] > own and len(c) >= len(name))
    ]
    if not candidates:
        return (name,)
    candidates.sort(key=lambda c: (c not in _FORMAL_NAMES, -counts[c], c))
    return tuple(sorted(candidates[:3]))


@functools.cache
def _nickname_table() -> tuple[dict[str, int], dict[str, frozenset[str]]]:
    """Load the nickname table once: nickname counts and nickname -> canonicals."""
    namer = NickNamer()
    counts = {name: len(nicks) for name, nicks in namer.nickname_lookup.items()}
    canonicals = {nick: frozenset(c) for nick, c in namer.canonical_lookup.items()}
    return counts, canonicals


# Formal names among the ~200 most common US given names that the table's
# reversed or formal -> formal pairs would otherwise map away (john ->
# jonathan, peter -> patrick, amy -> amelia). Names that are commonly
# nicknames (billy, jerry, larry, judy) are deliberately not listed.
_FORMAL_NAMES = frozenset(
    {"john", "mark", "andrew", "gary", "eric", "alexander", "nathan", "peter", "noah",
     "austin", "carl", "albert", "roy", "ralph", "michael", "mary", "linda", "sandra",
     "laura", "amy", "anna", "ann", "emma", "nicole", "debra", "deborah", "janet", "maria",
     "kelly", "joan", "megan", "hannah", "jean", "sophia", "marie", "lori", "eleanor",
     "caroline"}
)  # fmt: skip
