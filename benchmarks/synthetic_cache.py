"""Generated benchmark data, cached in a work directory between runs.

A data set of N records with seed S lives in ``WORKDIR/synthetic-N-seedS-G/`` where
``G`` fingerprints the generator's source (``tools/synthetic``), so an edited
generator never serves stale data. Derived files live next to it; those that depend on
the encoder or the normalisers are fingerprinted by the rest of the engine's source:

* ``canonical.csv`` — the canonical columns of all agency files in one CSV (the
  input of the encode benchmark);
* ``encoded-E/AGENCY.jsonl`` — every agency file encoded under one throw-away key
  (the input of the link benchmark; the key itself is never written);
* ``normalized-E/AGENCY.csv`` — plaintext normalised like the encoder does (the
  input of the baselines, see :mod:`benchmarks.plaintext`).

Everything is built in a temporary sibling and renamed into place when complete, so
an interrupted run never leaves a half-written cache entry; entries built for other
engine versions are deleted then. Heavy steps run in a
spawned child, keeping the calling process small.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import linkage
from benchmarks.common import run_in_child
from benchmarks.plaintext import normalize_csv
from linkage.encode.encode_file import encode_csv
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret, generate_secret
from linkage.schema import CANONICAL_COLUMNS, default_schema
from tools.synthetic import DEFAULT_AGENCIES, write_large

__all__ = [
    "SyntheticSet",
    "canonical_csv",
    "dataset_dir_name",
    "drop_stale_siblings",
    "encoded_files",
    "ensure_synthetic",
    "normalized_files",
    "source_fingerprint",
    "write_canonical_union",
]

logger = logging.getLogger(__name__)

_ENGINE = Path(linkage.__file__).parent
#: The generator's sources: a change to them invalidates every cached data set.
_GENERATOR = Path(__file__).resolve().parents[1] / "tools" / "synthetic"


@dataclass(frozen=True)
class SyntheticSet:
    """One cached synthetic data set.

    Attributes:
        directory: Where its files live.
        records: Total records over all agencies.
        seed: Generator seed.
        agency_csvs: Agency name to its CSV, in generation order.
        truth: ``agency,record_id,person_id`` ground truth.
    """

    directory: Path
    records: int
    seed: int
    agency_csvs: dict[str, Path]
    truth: Path


def source_fingerprint(root: Path, *, exclude: Path | None = None) -> str:
    """A short hash of every ``.py`` file under ``root`` (paths and contents).

    Args:
        root: Package directory to fingerprint.
        exclude: A subdirectory to leave out.
    """
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if exclude is not None and path.is_relative_to(exclude):
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def dataset_dir_name(records: int, seed: int, fingerprint: str) -> str:
    """Cache directory name of the data set with ``records`` records and ``seed``."""
    return f"synthetic-{records}-seed{seed}-{fingerprint}"


def _engine_fingerprint() -> str:
    return source_fingerprint(_ENGINE, exclude=_GENERATOR)


def drop_stale_siblings(target: Path) -> list[Path]:
    """Delete the siblings of ``target`` built for other engine versions.

    ``encoded-E`` of a million records is 1.6 GB; with the engine edited between runs,
    old versions would fill the disk. Siblings share ``target``'s name up to its last
    ``-`` (the fingerprint).

    Returns:
        The directories deleted.
    """
    prefix = target.name.rsplit("-", 1)[0] + "-"
    stale = [
        sibling
        for sibling in target.parent.glob(f"{prefix}*")
        if sibling.is_dir() and sibling != target and not sibling.name.startswith(".")
    ]
    for sibling in stale:
        shutil.rmtree(sibling, ignore_errors=True)
    return stale


def _build_dir(target: Path, build: Callable[[Path], object]) -> Path:
    """Run ``build`` on a temporary sibling of ``target``, then rename it into place."""
    if target.is_dir():
        return target
    drop_stale_siblings(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(scratch)
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def ensure_synthetic(workdir: Path, records: int, seed: int) -> SyntheticSet:
    """The cached data set of ``records`` records and ``seed``, generated if missing.

    Args:
        workdir: Cache root.
        records: Total number of records over the default agencies.
        seed: Generator seed.
    """
    name = dataset_dir_name(records, seed, source_fingerprint(_GENERATOR))
    directory = workdir / name
    if not directory.is_dir():
        logger.info("generating %d records (seed %d) into %s", records, seed, directory)
        _build_dir(directory, lambda out: run_in_child(write_large, out, records, seed))
    csvs = {agency: directory / f"{agency}.csv" for agency in DEFAULT_AGENCIES}
    return SyntheticSet(directory, records, seed, csvs, directory / "truth.csv")


def write_canonical_union(sources: list[Path], target: Path) -> int:
    """Write the canonical columns of every source CSV, one after the other, to ``target``.

    Returns:
        The number of data rows written.
    """
    count = 0
    with target.open("w", encoding="utf-8", newline="") as dst:
        writer = csv.writer(dst, lineterminator="\n")
        writer.writerow(CANONICAL_COLUMNS)
        for source in sources:
            with source.open(encoding="utf-8", newline="") as src:
                for row in csv.DictReader(src):
                    writer.writerow([row[c] for c in CANONICAL_COLUMNS])
                    count += 1
    return count


def canonical_csv(dataset: SyntheticSet) -> Path:
    """All agencies' canonical columns in one CSV (built once per data set)."""
    target = dataset.directory / "canonical.csv"
    if not target.exists():
        scratch = target.with_name(f".{target.name}.partial")
        write_canonical_union(list(dataset.agency_csvs.values()), scratch)
        scratch.replace(target)
    return target


def encode_agency_files(csvs: dict[str, Path], out_dir: Path) -> None:
    """Encode every agency CSV into ``out_dir/AGENCY.jsonl`` under one fresh key."""
    secret = LinkageSecret(generate_secret())
    schema = default_schema()
    for agency, source in csvs.items():
        encode_csv(source, out_dir / f"{agency}.jsonl", RecordEncoder(schema, secret, agency))


def encoded_files(dataset: SyntheticSet) -> list[Path]:
    """The agency files encoded under one throw-away key (encoded once per engine version)."""
    directory = dataset.directory / f"encoded-{_engine_fingerprint()}"
    if not directory.is_dir():
        logger.info("encoding %s", dataset.directory.name)
        csvs = dataset.agency_csvs
        _build_dir(directory, lambda out: run_in_child(encode_agency_files, csvs, out))
    return [directory / f"{agency}.jsonl" for agency in dataset.agency_csvs]


def _normalize_all(csvs: dict[str, Path], out_dir: Path) -> None:
    for agency, source in csvs.items():
        normalize_csv(source, out_dir / f"{agency}.csv")


def normalized_files(dataset: SyntheticSet) -> dict[str, Path]:
    """The agency files as normalised plaintext (built once per engine version)."""
    directory = dataset.directory / f"normalized-{_engine_fingerprint()}"
    if not directory.is_dir():
        logger.info("normalising %s for the baselines", dataset.directory.name)
        _build_dir(directory, lambda out: run_in_child(_normalize_all, dataset.agency_csvs, out))
    return {agency: directory / f"{agency}.csv" for agency in dataset.agency_csvs}
