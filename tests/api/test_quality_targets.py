"""Quality targets through the canonical pipeline, exactly as agencies run it.

FEBRL files are written in the canonical layout (street number, address_1 and
address_2 joined; suburb as city; date of birth as YYYYMMDD; soc_sec_id as ssn),
each is encoded with ``crosswalk encode`` and one ``crosswalk link`` runs over
both; the clusters are scored against the FEBRL truth.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from api.cli import main
from linkage.datasets import load_febrl, write_canonical_csvs
from linkage.evaluation import PairKey, cluster_pairs_of, read_truth_csv, score_pairs

pytestmark = pytest.mark.slow


def _link_through_cli(name: str, tmp_path: Path, exclude: tuple[str, ...]) -> float:
    dataset = load_febrl(name)  # type: ignore[arg-type]
    paths = write_canonical_csvs(dataset, tmp_path)
    if exclude:  # an agency that does not hold the field: the column is simply empty
        for path in paths.values():
            with path.open() as handle:
                rows = list(csv.DictReader(handle))
            with path.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows({**r, **dict.fromkeys(exclude, "")} for r in rows)
    return _encode_link_score(paths, dataset.true_pairs, tmp_path)


def _encode_link_score(
    paths: dict[str, Path], truth: set[PairKey] | frozenset[PairKey], tmp_path: Path
) -> float:
    """keygen, one encode per agency file, one link; pairwise F1 of the clusters."""
    key = tmp_path / "key"
    assert main(["keygen", "-o", str(key)]) == 0
    encoded = []
    for agency, path in paths.items():
        out = tmp_path / f"{agency}.jsonl"
        assert main(["encode", str(path), "--agency", agency, "--key-file", str(key),
                     "-o", str(out)]) == 0  # fmt: skip
        encoded.append(str(out))
    clusters = tmp_path / "clusters.csv"
    assert main(["link", *encoded, "-o", str(clusters)]) == 0
    with clusters.open() as handle:
        rows = list(csv.DictReader(handle))
    keys = [(r["agency"], r["record_id"]) for r in rows]
    predicted = cluster_pairs_of(keys, [r["subject_id"] for r in rows])
    return score_pairs(predicted, truth).f1


def test_febrl4_without_ssn_reaches_f1_0_995(tmp_path: Path) -> None:
    assert _link_through_cli("febrl4", tmp_path, ("ssn",)) >= 0.995


def test_febrl3_deduplication_reaches_f1_0_99(tmp_path: Path) -> None:
    assert _link_through_cli("febrl3", tmp_path, ()) >= 0.99


def test_synthetic_multi_agency_demo_reaches_f1_0_93(tmp_path: Path, demo_data_dir: Path) -> None:
    data = demo_data_dir
    paths = {p.stem: p for p in sorted(data.glob("*.csv")) if p.name != "truth.csv"}
    assert _encode_link_score(paths, read_truth_csv(data / "truth.csv"), tmp_path) >= 0.93
