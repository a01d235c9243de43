"""Encoded demo data shared by the incremental-linking tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkage.encode.encode_file import encode_csv
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.evaluation import PairKey, read_truth_csv
from linkage.match.pipeline import LinkResult, link_table
from linkage.schema import default_schema
from linkage.table import EncodedTable, load_encoded_files


@pytest.fixture(scope="session")
def demo_table(
    demo_data_dir: Path, secret: LinkageSecret, tmp_path_factory: pytest.TempPathFactory
) -> EncodedTable:
    """The three agency files of ``api/demo/data``, encoded with ``secret``."""
    out = tmp_path_factory.mktemp("demo")
    paths = []
    for source in sorted(demo_data_dir.glob("*.csv")):
        if source.name != "truth.csv":
            target = out / f"{source.stem}.jsonl"
            encode_csv(source, target, RecordEncoder(default_schema(), secret, source.stem))
            paths.append(target)
    return load_encoded_files(paths)


@pytest.fixture(scope="session")
def demo_truth(demo_data_dir: Path) -> set[PairKey]:
    """True matching pairs of the demo data."""
    return read_truth_csv(demo_data_dir / "truth.csv")


@pytest.fixture(scope="session")
def demo_link(demo_table: EncodedTable) -> LinkResult:
    """The batch run over the demo data (its model is reused incrementally)."""
    return link_table(demo_table)
