"""Error habits: the small ways a value goes wrong when a person keys it in.

Each function takes a clean value and a random stream and returns the value as
one agency would hold it: keyboard typos, wrong dates of the kinds seen in
practice (day and month swapped, one digit off, year off by one, 1 January
placeholder), stripped diacritics, respelled name particles and compound
surnames, stray case and whitespace, and the many ways of writing a date,
phone number, SSN or street. They are pure apart from the random stream.
"""

from __future__ import annotations

import random
from datetime import date

from tools.synthetic.tables import Place, Weighted

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, str]:
    """Map each letter to the keys around it on a QWERTY keyboard."""
    out: dict[str, str] = {}
    for r, row in enumerate(_KEYBOARD_ROWS):
        for c, ch in enumerate(row):
            near = row[max(0, c - 1) : c] + row[c + 1 : c + 2]
            for other in (r - 1, r + 1):
                if 0 <= other < len(_KEYBOARD_ROWS):
                    near += _KEYBOARD_ROWS[other][max(0, c - 1) : c + 1]
            out[ch] = near
    return out


_NEIGHBOURS = _keyboard_neighbours()
_ACCENTS = str.maketrans("áéíóúüñÁÉÍÓÚÜÑ", "aeiouunAEIOUUN")
_STREET_TYPES = {
    "St": "Street", "Ave": "Avenue", "Rd": "Road", "Dr": "Drive", "Ln": "Lane",
    "Blvd": "Boulevard", "Ct": "Court", "Pl": "Place", "Ter": "Terrace",
    "Cir": "Circle", "Pkwy": "Parkway", "Hwy": "Highway",
}  # fmt: skip
_DIRECTIONS = {"N": "North", "S": "South", "E": "East", "W": "West"}
_CITY_WORDS = {"North": "N", "Point": "Pt", "Springs": "Spgs", "Falls": "Fls", "Creek": "Crk"}
DATE_ERRORS = Weighted.of(["transposed", "digit", "year", "january"], [0.3, 0.3, 0.25, 0.15])


def typo(text: str, rnd: random.Random) -> str:
    """Apply one keyboard slip: insert, delete, substitute or transpose adjacent letters."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if not letters:
        return text
    i = rnd.choice(letters)
    op = rnd.randrange(4)
    if op == 0:  # doubled or stray neighbouring key
        extra = text[i] if rnd.random() < 0.5 else _near(text[i], rnd)
        out = text[: i + 1] + extra + text[i + 1 :]
    elif op == 1 and len(letters) > 2:
        out = text[:i] + text[i + 1 :]
    elif op == 2 and i + 1 < len(text) and text[i + 1].isalpha() and text[i] != text[i + 1]:
        out = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    else:
        out = text[:i] + _near(text[i], rnd) + text[i + 1 :]
    return out if out != text else text[:i] + _near(text[i], rnd) + text[i + 1 :]


def _near(ch: str, rnd: random.Random) -> str:
    lower = ch.lower()
    near = _NEIGHBOURS.get(lower.translate(_ACCENTS), "e")
    pick = rnd.choice([c for c in near if c != lower] or ["e"])
    return pick.upper() if ch.isupper() else pick


def strip_accents(text: str) -> str:
    """Drop Spanish diacritics (José -> Jose, Núñez -> Nunez)."""
    return text.translate(_ACCENTS)


def format_date(value: date, style: str) -> str:
    """Write a date as ``iso`` (YYYY-MM-DD), ``us`` (MM/DD/YYYY) or ``compact`` (YYYYMMDD)."""
    if style == "us":
        return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"
    if style == "compact":
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return value.isoformat()


def misdate(value: date, rnd: random.Random) -> date:
    """Return a plausible wrong date of birth (never ``value`` itself)."""
    kind = DATE_ERRORS.pick(rnd)
    if kind == "transposed" and value.day <= 12 and value.day != value.month:
        return date(value.year, value.day, value.month)
    if kind == "january" and (value.month, value.day) != (1, 1):
        return date(value.year, 1, 1) if rnd.random() < 0.8 else date(1900, 1, 1)
    if kind in ("digit", "transposed", "january"):
        wrong = _digit_slip(value, rnd)
        if wrong is not None:
            return wrong
    year = value.year + (1 if rnd.random() < 0.5 else -1)
    return date(year, value.month, min(value.day, 28 if value.month == 2 else value.day))


def _digit_slip(value: date, rnd: random.Random) -> date | None:
    digits = format_date(value, "compact")
    for _ in range(12):
        pos = rnd.choice((3, 5, 6, 7, 7))  # last year digit, month, day
        candidate = digits[:pos] + str(rnd.randrange(10)) + digits[pos + 1 :]
        try:
            wrong = date(int(candidate[:4]), int(candidate[4:6]), int(candidate[6:]))
        except ValueError:
            continue
        if wrong != value and wrong.year >= 1900:
            return wrong
    return None


def format_phone(digits: str, style: str) -> str:
    """Write a 10-digit phone in one of the common US styles."""
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    styles = {
        "dashes": f"{area}-{exchange}-{line}",
        "parens": f"({area}) {exchange}-{line}",
        "dotted": f"{area}.{exchange}.{line}",
        "intl": f"+1 {area} {exchange} {line}",
        "local": f"{exchange}-{line}",
    }
    return styles.get(style, digits)


def format_ssn(digits: str, dashes: bool) -> str:
    """Write an SSN as ``123-45-6789`` or ``123456789``."""
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}" if dashes else digits


def digit_slip(digits: str, rnd: random.Random) -> str:
    """Change one digit or swap two adjacent digits of a number."""
    i = rnd.randrange(len(digits) - 1)
    if rnd.random() < 0.5 and digits[i] != digits[i + 1]:
        return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
    new = str((int(digits[i]) + rnd.randint(1, 9)) % 10)
    return digits[:i] + new + digits[i + 1 :]


def has_particle(name: str) -> bool:
    """Whether a surname has parts that agencies write differently (De La, O', Mc, -)."""
    return any(ch in name for ch in " '-.") or any(ch.isupper() for ch in name[1:])


def particle_variant(name: str, rnd: random.Random) -> str:
    """Respell particles and compounds: De La Cruz -> Delacruz, O'Brien -> OBrien, ..."""
    if "-" in name:
        first, _, second = name.partition("-")
        return rnd.choice((f"{first} {second}", first, second, first + second.lower()))
    if "'" in name:
        head, _, tail = name.partition("'")
        return rnd.choice((head + tail, f"{head} {tail}", head + tail.lower()))
    if " " in name:
        parts = name.replace(".", "").split()
        joined = parts[0] + "".join(p.lower() for p in parts[1:])
        lowered = " ".join([p.lower() for p in parts[:-1]] + parts[-1:])
        return rnd.choice((joined, lowered, parts[-1], "".join(parts)))
    inner = next((i for i, ch in enumerate(name) if i and ch.isupper()), 0)
    if inner:
        return rnd.choice((name[:inner] + " " + name[inner:], name[:inner] + name[inner:].lower()))
    return name


def case_noise(text: str, rnd: random.Random) -> str:
    """Mangle letter case the way a stuck shift key or a lazy hand does."""
    roll = rnd.random()
    if roll < 0.4:
        return text.lower()
    if roll < 0.7:
        return text.swapcase()
    return text[:1].lower() + text[1:].upper()


def whitespace_noise(text: str, rnd: random.Random) -> str:
    """Add stray leading, trailing or doubled spaces."""
    roll = rnd.random()
    if roll < 0.35:
        return " " + text
    if roll < 0.7 or " " not in text:
        return text + rnd.choice((" ", "  "))
    return text.replace(" ", "  ", 1)


def spell_street(place: Place, style: str, rnd: random.Random) -> str:
    """Write the street line: ``abbrev`` (N Main St Apt 4) or ``full`` (North Main Street #4)."""
    words = place.street.split()
    if style == "full":
        words[0] = _DIRECTIONS.get(words[0], words[0]) if len(words) > 2 else words[0]
        words[-1] = _STREET_TYPES.get(words[-1], words[-1])
    elif style == "dotted":
        words = [w + "." if w in _STREET_TYPES or w in _DIRECTIONS else w for w in words]
    line = f"{place.number} {' '.join(words)}"
    if place.unit and rnd.random() < 0.75:
        label = rnd.choice(("Apt ", "Apt ", "#", "Unit ", "Apt. "))
        line += rnd.choice((" ", ", ")) + label + place.unit
    return line


def abbreviate_city(city: str) -> str:
    """Shorten city words the way forms do (North Larkin -> N Larkin)."""
    return " ".join(_CITY_WORDS.get(word, word) for word in city.split())
