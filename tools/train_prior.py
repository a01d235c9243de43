"""Rebuild the packaged prior model: ``python -m tools.train_prior``.

Encodes the demo population (``api/demo/data``, the synthetic generator's
3,000 people at three agencies) under a fixed, public throw-away key, links it
in batch (EM), drops the keyed term-frequency tables and writes the model to
``linkage/match/data/prior_model.json``. See :mod:`linkage.match.prior` for
what transfers to another program's key. Deterministic: the same code and data
give the same file (a test checks that the committed file is current).
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

import orjson

from api.demo.builder import DEMO_DATA
from linkage.encode.encode_file import encode_csv
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.match.pipeline import link_table
from linkage.schema import default_schema
from linkage.table import load_encoded_files

__all__ = ["build_prior", "main"]

#: A public key: the prior keeps nothing keyed, so nothing about it is secret.
PRIOR_KEY = hashlib.sha256(b"crosswalk prior model, public throw-away key").digest()
TARGET = Path(__file__).resolve().parents[1] / "linkage" / "match" / "data" / "prior_model.json"


def build_prior() -> bytes:
    """The prior model's JSON."""
    secret = LinkageSecret(PRIOR_KEY)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for source in sorted(DEMO_DATA.glob("*.csv")):
            if source.name == "truth.csv":
                continue
            target = Path(tmp) / f"{source.stem}.jsonl"
            encode_csv(source, target, RecordEncoder(default_schema(), secret, source.stem))
            paths.append(target)
        model = link_table(load_encoded_files(paths)).model
    data = model.to_dict()
    data["term_frequencies"] = {}
    data["key_id"] = "prior"
    data["provenance"] = "python -m tools.train_prior: api/demo/data, public throw-away key"
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main() -> int:
    """Write (or with ``--check``, compare) the packaged prior."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args()
    data = build_prior()
    if args.check:
        return 0 if TARGET.exists() and TARGET.read_bytes() == data else 1
    TARGET.write_bytes(data)
    print(f"wrote {TARGET} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
