"""``crosswalk demo``: the linkage pipeline end to end on the fixture agencies.

Until the hub service exists this is what the README's "run" command shows: a
fresh linkage secret, each demo agency's CSV encoded as that agency would, one
link over all encodings, and the quality report against the generator's truth.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["register"]

DEMO_DATA = Path(__file__).resolve().parents[2] / "fixtures" / "synthetic" / "demo"


def register(sub: Any) -> None:
    """Add the ``demo`` sub-command."""
    p = sub.add_parser("demo", help="run the linkage demo on the fixture agencies")
    p.add_argument(
        "--data",
        type=Path,
        default=DEMO_DATA,
        help="folder of agency CSVs with truth.csv (default: the demo fixtures)",
    )
    p.add_argument("--keep", type=Path, help="write the encodings and clusters to this folder")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Encode every agency, link them, print the clusters summary and quality."""
    from linkage.cluster_io import write_clusters
    from linkage.encode_file import encode_csv
    from linkage.encoding import RecordEncoder
    from linkage.evaluation import cluster_pairs_of, read_truth_csv, score_pairs
    from linkage.keys import LinkageSecret, generate_secret
    from linkage.pipeline import link_table
    from linkage.schema import default_schema
    from linkage.table import load_encoded_files

    agencies = sorted(p for p in args.data.glob("*.csv") if p.name != "truth.csv")
    secret = LinkageSecret(generate_secret())
    with tempfile.TemporaryDirectory() as scratch:
        out_dir = args.keep or Path(scratch)
        out_dir.mkdir(parents=True, exist_ok=True)
        print(f"Linkage secret {secret.key_id} generated for this demo (kept in memory only).")
        encoded = []
        for csv_path in agencies:
            target = out_dir / f"{csv_path.stem}.jsonl"
            encoder = RecordEncoder(default_schema(), secret, csv_path.stem)
            report = encode_csv(csv_path, target, encoder, progress=sys.stderr.isatty())
            unparseable = sum(report.unparseable.values())
            print(
                f"  encoded {report.records:6d} records of {csv_path.stem:20s} "
                f"({unparseable} unparseable values treated as missing)"
            )
            encoded.append(target)
        result = link_table(load_encoded_files(encoded), progress=sys.stderr.isatty())
        write_clusters(out_dir / "clusters.csv", result.rows())
        keys = result.table.keys()
        subjects = len(set(result.subject_ids))
        print(
            f"Linked {len(keys)} records into {subjects} subjects "
            f"({len(result.left)} candidate pairs compared)."
        )
        truth_file = args.data / "truth.csv"
        if truth_file.exists():
            scores = score_pairs(
                cluster_pairs_of(keys, result.subject_ids), read_truth_csv(truth_file)
            )
            print(
                f"Quality against the generator's truth: precision {scores.precision:.4f}, "
                f"recall {scores.recall:.4f}, F1 {scores.f1:.4f}"
            )
        print("Stage timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()))
        if args.keep:
            print(f"Encodings and clusters.csv are in {out_dir}")
    return 0
