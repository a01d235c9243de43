"""Behaviour of the synthetic generator: determinism, layout, truth, writers, population."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from api.demo.builder import DEMO_DATA
from tools.synthetic import (
    CANONICAL_COLUMNS,
    DEFAULT_AGENCIES,
    PROFILES,
    Person,
    SyntheticDataset,
    generate,
    write_dataset,
    write_large,
)
from tools.synthetic import generator as generator_module
from tools.synthetic.__main__ import main
from tools.synthetic.population import REFERENCE_DATE
from tools.synthetic.tables import FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "synthetic"


def fold(text: str) -> str:
    """Letters only, accents stripped, case folded."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in plain if ch.isalpha() and not unicodedata.combining(ch)).casefold()


# -- determinism and layout ----------------------------------------------------------------


def test_same_seed_gives_the_same_dataset_and_another_seed_does_not() -> None:
    first, again, other = (generate(300, seed=s) for s in (5, 5, 6))
    assert first.records == again.records
    assert first.truth == again.truth
    assert first.records != other.records


def test_full_chunks_reappear_unchanged_in_a_larger_population(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(generator_module, "CHUNK_PEOPLE", 100)
    small, large = generate(200, seed=9), generate(350, seed=9)
    for agency, rows in small.records.items():
        assert large.records[agency][: len(rows)] == rows
    assert set(small.truth) <= set(large.truth)


def test_rows_use_canonical_columns_then_agency_context_all_strings(
    sample: SyntheticDataset,
) -> None:
    for agency, rows in sample.records.items():
        columns = PROFILES[agency].columns
        assert columns[: len(CANONICAL_COLUMNS)] == CANONICAL_COLUMNS
        assert all(tuple(row) == columns for row in rows)
        assert all(isinstance(value, str) for row in rows for value in row.values())
        for column in PROFILES[agency].context_columns:
            filled = sum(1 for row in rows if row[column])
            assert 0 < filled < len(rows), f"{agency}.{column} should be sometimes empty"


def test_truth_names_every_record_exactly_once_with_agency_style_ids(
    sample: SyntheticDataset,
) -> None:
    in_truth = Counter((agency, rid) for agency, rid, _ in sample.truth)
    in_records = Counter(
        (a, row["record_id"]) for a, rows in sample.records.items() for row in rows
    )
    assert in_truth == in_records
    assert max(in_truth.values()) == 1
    assert {pid for _, _, pid in sample.truth} <= set(sample.people)
    for agency, rows in sample.records.items():
        profile = PROFILES[agency]
        pattern = re.compile(rf"^{re.escape(profile.id_prefix)}\d{{{profile.id_width}}}$")
        assert all(pattern.match(row["record_id"]) for row in rows)


def test_record_ids_do_not_group_a_persons_records(sample: SyntheticDataset) -> None:
    by_person: dict[str, list[int]] = defaultdict(list)
    for agency, rid, pid in sample.truth:
        if agency == "police_cad":
            by_person[pid].append(int(rid[4:]))
    spreads = [max(ids) - min(ids) for ids in by_person.values() if len(ids) > 1]
    assert sum(spreads) / len(spreads) > 1000


def test_written_files_round_trip(tmp_path: Path) -> None:
    small = generate(150, seed=2)
    write_dataset(small, tmp_path)
    for agency, rows in small.records.items():
        with (tmp_path / f"{agency}.csv").open(newline="", encoding="utf-8") as handle:
            assert list(csv.DictReader(handle)) == rows
    with (tmp_path / "truth.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["agency", "record_id", "person_id"]
        assert [tuple(line) for line in reader] == small.truth


def test_streaming_writer_writes_exactly_the_requested_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generator_module, "CHUNK_PEOPLE", 400)  # several chunks, last one cut
    counts = write_large(tmp_path, 2500, seed=4)
    assert sum(counts.values()) == 2500
    with (tmp_path / "truth.csv").open(newline="", encoding="utf-8") as handle:
        truth = list(csv.DictReader(handle))
    assert len(truth) == 2500
    for agency, count in counts.items():
        with (tmp_path / f"{agency}.csv").open(newline="", encoding="utf-8") as handle:
            ids = [row["record_id"] for row in csv.DictReader(handle)]
        assert len(ids) == len(set(ids)) == count
        assert set(ids) == {t["record_id"] for t in truth if t["agency"] == agency}


@pytest.mark.parametrize(
    ("people", "agencies"), [(-1, DEFAULT_AGENCIES), (10, ("police_cad", "fire")), (10, ())]
)
def test_bad_arguments_are_refused(people: int, agencies: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match=r"people|agenc"):
        generate(people, seed=1, agencies=agencies)


def test_streaming_writer_refuses_unknown_agencies_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown agencies"):
        write_large(tmp_path / "out", 10, seed=1, agencies=("fire",))
    assert not (tmp_path / "out").exists()


def test_command_line_writes_a_dataset_and_reports_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--people", "60", "--seed", "2", "-o", str(tmp_path)]) == 0
    assert "records" in capsys.readouterr().out
    assert {p.name for p in tmp_path.iterdir()} == {f"{a}.csv" for a in DEFAULT_AGENCIES} | {
        "truth.csv"
    }
    assert main(["--records", "5", "--agencies", "fire", "-o", str(tmp_path / "x")]) == 2
    assert "unknown agencies" in capsys.readouterr().err


def test_a_subset_of_agencies_including_ems_can_be_generated() -> None:
    dataset = generate(300, seed=1, agencies=("ems", "police_cad"))
    assert list(dataset.records) == ["ems", "police_cad"]
    assert tuple(dataset.records["ems"][0]) == PROFILES["ems"].columns


# -- population --------------------------------------------------------------------------------


def _pairs(sample: SyntheticDataset, relation: str) -> list[tuple[Person, Person]]:
    return [
        (p, sample.people[p.relative_id])
        for p in sample.people.values()
        if p.relation == relation and p.relative_id in sample.people
    ]


def test_twins_share_birth_date_surname_and_address_but_not_given_name(
    sample: SyntheticDataset,
) -> None:
    twins = _pairs(sample, "twin")
    assert 0.02 < len(twins) / len(sample.people) < 0.06
    for one, two in twins:
        assert one.birth_date == two.birth_date
        assert one.family_name == two.family_name
        assert one.places == two.places
        assert one.given_name != two.given_name
    alliterative = sum(1 for one, two in twins if one.given_name[0] == two.given_name[0])
    assert alliterative > len(twins) * 0.3


def test_juniors_carry_their_fathers_name_and_live_with_him(sample: SyntheticDataset) -> None:
    juniors = _pairs(sample, "junior")
    assert len(juniors) / len(sample.people) > 0.015
    for junior, senior in juniors:
        assert senior.relation == "senior"
        assert (junior.given_name, junior.family_name) == (senior.given_name, senior.family_name)
        assert junior.places == senior.places
        assert 19 <= (junior.birth_date - senior.birth_date).days // 365 <= 41
        assert (junior.suffix, senior.suffix) in {("Jr", "Sr"), ("II", "Sr")}


def test_common_names_recur_among_unrelated_people(sample: SyntheticDataset) -> None:
    households: dict[tuple[str, str], set[int]] = defaultdict(set)
    for person in sample.people.values():
        households[fold(person.given_name), fold(person.family_name)].add(person.household_id)
    shared = {name: len(h) for name, h in households.items() if len(h) > 1}
    assert len(shared) >= 30
    assert max(shared.values()) >= 3
    surnames = Counter(fold(p.family_name) for p in sample.people.values())
    top = [name for name, _ in surnames.most_common(12)]
    assert {"smith", "johnson", "garcia"} <= set(top)
    assert surnames["smith"] / len(sample.people) > 0.012


def test_population_shape_matches_the_model(sample: SyntheticDataset) -> None:
    people = list(sample.people.values())
    n = len(people)
    ages = [(REFERENCE_DATE - p.birth_date).days / 365.25 for p in people]
    assert min(ages) >= 18
    assert max(ages) < 86.1
    assert 35 < sum(ages) / n < 48
    assert 0.45 < sum(p.sex == "F" for p in people) / n < 0.55
    assert 0.55 < sum(bool(p.phones) for p in people) / n < 0.65
    assert 0.15 < sum(len(p.places) == 2 for p in people) / n < 0.25
    women = [p for p in people if p.sex == "F"]
    assert 0.05 < sum(bool(p.previous_family_name) for p in women) / len(women) < 0.11
    assert 0.05 < sum(p.homeless for p in people) / n < 0.2
    assert len({p.ssn for p in people}) > 0.99 * n


def test_most_people_have_one_or_two_records_and_a_few_have_ten_or_more(
    sample: SyntheticDataset,
) -> None:
    per_person = Counter(pid for _, _, pid in sample.truth)
    assert set(per_person) == set(sample.people)
    n = len(per_person)
    assert sum(1 for c in per_person.values() if c <= 2) / n > 0.65
    assert 0.01 < sum(1 for c in per_person.values() if c >= 10) / n < 0.04
    assert 1.8 < sum(per_person.values()) / n < 2.5
    agencies: dict[str, set[str]] = defaultdict(set)
    for agency, _, pid in sample.truth:
        agencies[pid].add(agency)
    spread = Counter(len(a) for a in agencies.values())
    assert spread[1] > spread[2] > spread[3] > 0
    within: dict[str, Counter[str]] = defaultdict(Counter)
    for agency, _, pid in sample.truth:
        within[agency][pid] += 1
    assert max(within["police_cad"].values()) >= 6
    assert max(within["behavioral_health"].values()) <= 3
    assert all(sum(c > 1 for c in counts.values()) > 100 for counts in within.values())


@pytest.mark.parametrize(
    ("committed", "people", "seed"),
    [(FIXTURES / "small", 300, 300), (DEMO_DATA, 3000, 3000)],
    ids=["small", "demo"],
)
def test_committed_fixtures_are_what_the_generator_makes(
    committed: Path, people: int, seed: int, tmp_path: Path
) -> None:
    write_dataset(generate(people, seed=seed), tmp_path)
    names = sorted(p.name for p in committed.glob("*.csv"))
    assert names == sorted(p.name for p in tmp_path.glob("*.csv"))
    for name in names:
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), (
            f"{committed}/{name} is stale: regenerate as fixtures/synthetic/README.md says"
        )
