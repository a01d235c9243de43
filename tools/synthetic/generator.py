"""Generate a synthetic multi-agency data set with its linkage truth.

People are drawn in chunks of :data:`CHUNK_PEOPLE` from a random stream seeded
by ``(seed, chunk number)``, so output is deterministic for a seed, every full
chunk of a smaller population reappears unchanged in a larger one, and the
benchmark writer can stream millions of records without holding them. Within a chunk each agency's
rows are shuffled before record ids are handed out, so neither row order nor
id reveals which records belong to one person.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from tools.synthetic.city import parse_habits
from tools.synthetic.context import ContextMaker
from tools.synthetic.person import Person
from tools.synthetic.population import PopulationBuilder
from tools.synthetic.profiles import DEFAULT_AGENCIES, AgencyProfile, resolve_profiles
from tools.synthetic.records import RecordMaker, plan_contacts
from tools.synthetic.tables import NameTables, load_tables

CHUNK_PEOPLE = 10_000


@dataclass(frozen=True)
class SyntheticDataset:
    """Agency records and the truth linking them to people.

    Attributes:
        records: Agency name to its rows in the canonical layout, all values
            strings, ``""`` for missing (agencies also write their own markers
            such as ``"UNKNOWN"`` or ``"N/A"``).
        truth: ``(agency, record_id, person_id)`` for every record.
        people: The true identity behind each ``person_id``, for evaluation
            and for checking the generator; never an input to linkage.
        habits: ``(agency, record_id)`` to the sorted habit labels that shaped
            the record (see :mod:`tools.synthetic.city`), for error analysis.
        city_habits: The city habits switched on (empty: the default generator).
    """

    records: dict[str, list[dict[str, str]]]
    truth: list[tuple[str, str, str]]
    people: dict[str, Person] = field(default_factory=dict)
    habits: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    city_habits: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Chunk:
    """People drawn together and their agency rows, record ids already assigned.

    Attributes:
        people: The chunk's people.
        rows: Agency name to ``(person_id, row)`` pairs in record-id order.
        labels: Agency name to the habit labels of each row, in the same order.
    """

    people: list[Person]
    rows: dict[str, list[tuple[str, dict[str, str]]]]
    labels: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)


def generate(
    people: int,
    *,
    seed: int,
    agencies: Sequence[str] = DEFAULT_AGENCIES,
    habits: Iterable[str] = (),
) -> SyntheticDataset:
    """Generate ``people`` synthetic people and their records at each agency.

    Args:
        people: Number of distinct people (records are about twice as many).
        seed: Seed of every random draw; the same seed gives the same data.
        agencies: Agencies to produce, from :data:`tools.synthetic.profiles.PROFILES`.
        habits: City habits to switch on (:data:`tools.synthetic.city.CITY_HABITS`,
            or ``"all"``); none by default, which keeps the committed fixtures.

    Returns:
        The records per agency, the truth, the people behind it and each record's habits.

    Raises:
        ValueError: If ``people`` is negative, an agency or a habit is unknown.
    """
    if people < 0:
        raise ValueError("people must not be negative")
    city = parse_habits(habits)
    records: dict[str, list[dict[str, str]]] = {a: [] for a in agencies}
    truth: dict[str, list[tuple[str, str, str]]] = {a: [] for a in agencies}
    persons: dict[str, Person] = {}
    labels: dict[tuple[str, str], tuple[str, ...]] = {}
    for chunk in iter_chunks(people, seed=seed, agencies=agencies, habits=city):
        persons.update((person.person_id, person) for person in chunk.people)
        for agency, rows in chunk.rows.items():
            records[agency].extend(row for _, row in rows)
            truth[agency].extend((agency, row["record_id"], pid) for pid, row in rows)
            for (_, row), habit in zip(rows, chunk.labels[agency], strict=True):
                labels[agency, row["record_id"]] = habit
    return SyntheticDataset(records, list(itertools.chain(*truth.values())), persons, labels, city)


def iter_chunks(
    people: int | None,
    *,
    seed: int,
    agencies: Sequence[str] = DEFAULT_AGENCIES,
    habits: Iterable[str] = (),
) -> Generator[Chunk, None, None]:
    """Yield the data set chunk by chunk, record ids assigned.

    Each chunk depends only on (seed, chunk number, size, agencies), which is
    what makes the output deterministic and the chunks independent of each other.

    Args:
        people: Total number of people, or None to go on for ever.
        seed: Seed of every random draw.
        agencies: Agencies to produce.
        habits: City habits to switch on (see :func:`generate`).

    Yields:
        Chunks of up to :data:`CHUNK_PEOPLE` people with their records.
    """
    profiles = resolve_profiles(agencies)
    city = parse_habits(habits)
    jobs = ((seed, index, size, tuple(agencies), city) for index, size in _chunk_sizes(people))
    next_ids = {profile.name: 1 for profile in profiles}
    for chunk in map(_draw_chunk, jobs):
        _assign_ids(chunk, profiles, next_ids)
        yield chunk


def _draw_chunk(job: tuple[int, int, int, tuple[str, ...], frozenset[str]]) -> Chunk:
    """Draw one chunk, rows shuffled per agency but not yet numbered.

    Args:
        job: (seed, chunk number, people in the chunk, agencies, city habits).

    Returns:
        The chunk's people and rows with empty ``record_id``.
    """
    seed, index, size, agencies, city = job
    profiles = resolve_profiles(agencies)
    tables = load_tables()
    rnd = random.Random(f"crosswalk-synthetic/{seed}/{index}")
    people = PopulationBuilder(rnd, tables, index * CHUNK_PEOPLE, city).draw(size)
    drawn = _draw_rows(rnd, tables, profiles, people, city)
    rows, labels = {}, {}
    for agency, agency_rows in drawn.items():
        rnd.shuffle(agency_rows)  # one shuffle of (pid, row, labels): rows and labels stay aligned
        rows[agency] = [(pid, row) for pid, row, _ in agency_rows]
        labels[agency] = [habit for _, _, habit in agency_rows]
    return Chunk(people, rows, labels)


def _chunk_sizes(people: int | None) -> Iterator[tuple[int, int]]:
    for index in itertools.count():
        start = index * CHUNK_PEOPLE
        if people is not None and start >= people:
            return
        yield index, CHUNK_PEOPLE if people is None else min(CHUNK_PEOPLE, people - start)


def _draw_rows(
    rnd: random.Random,
    tables: NameTables,
    profiles: Sequence[AgencyProfile],
    people: Sequence[Person],
    city: frozenset[str],
) -> dict[str, list[tuple[str, dict[str, str], tuple[str, ...]]]]:
    context = ContextMaker(rnd, tables)
    makers = {p.name: RecordMaker(p, tables, rnd, context, city) for p in profiles}
    rows: dict[str, list[tuple[str, dict[str, str], tuple[str, ...]]]] = {
        p.name: [] for p in profiles
    }
    for person in people:
        for profile, times in plan_contacts(person, profiles, rnd):
            made = makers[profile.name].labelled_rows(person, times)
            rows[profile.name].extend((person.person_id, row, habit) for row, habit in made)
    return rows


def _assign_ids(chunk: Chunk, profiles: Sequence[AgencyProfile], next_ids: dict[str, int]) -> None:
    """Number each agency's (already shuffled) rows in the agency's id style."""
    for profile in profiles:
        number = next_ids[profile.name]
        for _, row in chunk.rows[profile.name]:
            row["record_id"] = f"{profile.id_prefix}{number:0{profile.id_width}d}"
            number += 1
        next_ids[profile.name] = number
