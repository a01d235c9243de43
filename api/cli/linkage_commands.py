"""Linkage sub-commands: ``keygen``, ``encode``, ``link``, ``evaluate``.

These are thin: parse arguments, call :mod:`linkage`, report. Reports go to
standard error and contain counts and field names, never identifier values.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linkage.match.subject_key import SubjectIdKey

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the linkage sub-commands to ``sub`` (an argparse sub-parser set)."""
    p = sub.add_parser("keygen", help="write a new linkage secret")
    p.add_argument("-o", "--output", type=Path, required=True, help="key file to create")
    p.add_argument("--bytes", type=int, default=32, help="secret length (>= 32)")
    p.set_defaults(handler=cmd_keygen)

    p = sub.add_parser("encode", help="encode a CSV of identifiers into keyed JSON Lines")
    p.add_argument("input", type=Path, help="CSV with a header row (UTF-8)")
    p.add_argument("--agency", required=True, help="name of the agency the records belong to")
    p.add_argument("--key-file", type=Path, required=True, help="linkage secret (crosswalk keygen)")
    p.add_argument("--schema", type=Path, help="linkage schema TOML (default: canonical layout)")
    p.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="CATEGORY=COL[,COL...]",
        help="carry columns verbatim as context of a data category (repeatable)",
    )
    p.add_argument("-o", "--output", type=Path, required=True, help="JSON Lines output")
    p.set_defaults(handler=cmd_encode)

    p = sub.add_parser("link", help="link encoded records into subjects")
    p.add_argument("inputs", type=Path, nargs="+", help="encoded JSON Lines files")
    p.add_argument("-o", "--output", type=Path, required=True, help="clusters CSV to write")
    p.add_argument(
        "--model",
        type=Path,
        help="model JSON: used if it exists (unless --retrain), saved otherwise "
        "(default: OUTPUT with .model.json)",
    )
    p.add_argument("--retrain", action="store_true", help="re-estimate even if --model exists")
    p.add_argument("--previous", type=Path, help="earlier clusters CSV, to keep subject ids stable")
    p.add_argument(
        "--id-key",
        type=Path,
        help="subject-id key file: new subject ids are keyed with it, so the same input "
        "gives the same ids; created (random) if missing. Keep it from agencies and "
        "responders. Without it a one-off random key is used: ids are unguessable and "
        "stay stable only through --previous",
    )
    p.add_argument(
        "--constraints",
        type=Path,
        help="reviewer decisions CSV (agency_l,record_id_l,agency_r,record_id_r,decision)",
    )
    p.add_argument("--review", type=Path, help="write possible matches (for review) to this CSV")
    p.set_defaults(handler=cmd_link)

    p = sub.add_parser("evaluate", help="measure linkage quality on a benchmark data set")
    p.add_argument(
        "--dataset",
        required=True,
        help="febrl3, febrl4, or a directory of agency CSVs with truth.csv",
    )
    p.add_argument(
        "--exclude-field",
        action="append",
        default=[],
        metavar="FIELD",
        help="identifier field to leave out (repeatable), e.g. ssn",
    )
    p.add_argument(
        "--by-habit",
        action="store_true",
        help="also print recall and false merges per habit (needs habits.csv in the "
        "dataset folder: python -m tools.synthetic --habits all)",
    )
    p.set_defaults(handler=cmd_evaluate)


def _progress() -> bool:
    return sys.stderr.isatty()


def cmd_keygen(args: argparse.Namespace) -> int:
    """Write a fresh random linkage secret."""
    from linkage.encode.keys import LinkageSecret, generate_secret, write_secret

    secret = generate_secret(args.bytes)
    write_secret(args.output, secret)
    print(f"wrote linkage secret {LinkageSecret(secret).key_id} to {args.output}", file=sys.stderr)
    return 0


def _parse_context(specs: list[str]) -> dict[str, list[str]]:
    from linkage.errors import InputDataError

    out: dict[str, list[str]] = {}
    for spec in specs:
        category, sep, columns = spec.partition("=")
        cols = [c.strip() for c in columns.split(",") if c.strip()]
        if not sep or not category.strip() or not cols:
            raise InputDataError(f"--context must look like CATEGORY=COL[,COL...], not {spec!r}")
        out.setdefault(category.strip(), []).extend(cols)
    return out


def cmd_encode(args: argparse.Namespace) -> int:
    """Encode one agency's CSV."""
    from linkage.encode.encode_file import encode_csv
    from linkage.encode.encoding import RecordEncoder
    from linkage.encode.keys import read_secret
    from linkage.schema import default_schema, load_schema

    schema = load_schema(args.schema) if args.schema else default_schema()
    secret = read_secret(args.key_file)
    encoder = RecordEncoder(schema, secret, args.agency)
    report = encode_csv(
        args.input, args.output, encoder, context=_parse_context(args.context), progress=_progress()
    )
    print(
        f"encoded {report.records} records of {args.agency} ({schema.schema_version}, "
        f"{secret.key_id}) to {args.output}",
        file=sys.stderr,
    )
    for reason, count in sorted(report.skipped_rows.items()):
        print(f"  skipped {count} row(s): {reason}", file=sys.stderr)
    for spec in schema.fields:
        bad, missing = report.unparseable[spec.name], report.missing[spec.name]
        print(f"  {spec.name:15s} unparseable {bad:7d}  missing {missing:7d}", file=sys.stderr)
    return 0


def cmd_link(args: argparse.Namespace) -> int:
    """Link encoded files and write the clusters, model and chart."""
    from linkage.cluster_io import read_clusters, read_constraints, write_clusters, write_pairs
    from linkage.match.chart import write_weights_chart
    from linkage.match.model import FellegiSunterModel
    from linkage.match.pipeline import link_table
    from linkage.table import load_encoded_files

    model_path: Path = args.model or args.output.with_suffix(".model.json")
    table = load_encoded_files(args.inputs)
    model = None
    if args.model and args.model.exists() and not args.retrain:
        model = FellegiSunterModel.load(args.model)
    previous = read_clusters(args.previous) if args.previous else None
    must, cannot = read_constraints(args.constraints) if args.constraints else ([], [])
    result = link_table(
        table,
        model=model,
        previous=previous,
        must_link=must,
        cannot_link=cannot,
        progress=_progress(),
        id_key=_subject_key(args.id_key) if args.id_key else None,
    )
    written = write_clusters(args.output, result.rows())
    result.model.save(model_path)
    chart = model_path.with_suffix(".weights.html")
    write_weights_chart(result.model, chart)
    if args.review:
        write_pairs(args.review, result.possible_matches())
    subjects = len(set(result.subject_ids))
    print(
        f"linked {written} records into {subjects} subjects "
        f"({len(result.left)} candidate pairs); clusters -> {args.output}, "
        f"model -> {model_path}, chart -> {chart}",
        file=sys.stderr,
    )
    for event in result.events:
        print(
            f"  {event.kind}: {', '.join(event.previous_ids)} -> {', '.join(event.subject_ids)}",
            file=sys.stderr,
        )
    if result.skipped_constraints:
        print(
            f"  ignored {result.skipped_constraints} constraint(s) naming unknown records",
            file=sys.stderr,
        )
    timing = ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
    print(f"  timings: {timing}", file=sys.stderr)
    return 0


def _subject_key(path: Path) -> SubjectIdKey:
    """The subject-id key in ``path``, made there (random, owner-only) on first use."""
    from linkage.match.subject_key import SubjectIdKey, read_subject_key, write_subject_key

    if path.exists():
        return read_subject_key(path)
    key = SubjectIdKey.generate()
    write_subject_key(path, key)
    print(f"wrote a new subject-id key to {path}", file=sys.stderr)
    return key


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Encode a benchmark with a throw-away key, link it and print quality figures."""
    from linkage.evaluate import evaluate_files, load_evaluation_dataset

    files, truth = load_evaluation_dataset(args.dataset)
    report = evaluate_files(files, truth, exclude_fields=args.exclude_field, progress=_progress())
    s = report.scores
    excluded = ",".join(args.exclude_field) or "none"
    print(
        f"dataset {args.dataset} (excluded: {excluded}): {report.records} records, "
        f"{report.candidate_pairs} candidate pairs"
    )
    print(f"pair completeness {report.pair_completeness:.4f}")
    print(
        f"precision {s.precision:.4f}  recall {s.recall:.4f}  F1 {s.f1:.4f}  "
        f"(true pairs {s.true_pairs}, predicted {s.predicted_pairs})"
    )
    print("stage timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items()))
    if args.by_habit:
        print(_habit_table(Path(args.dataset), report))
    return 0


def _habit_table(folder: Path, report: Any) -> str:
    """The per-habit table of an evaluation on a generated data set with habits.csv."""
    from linkage.errors import InputDataError
    from linkage.evaluation import (
        format_habit_table,
        habit_scores,
        read_habits_csv,
        read_truth_labels,
    )

    if not (folder / "habits.csv").exists():
        raise InputDataError(f"--by-habit needs {folder / 'habits.csv'}")
    keys = report.result.table.keys()
    subject_of = dict(zip(keys, report.result.subject_ids, strict=True))
    scores = habit_scores(
        read_truth_labels(folder / "truth.csv"), subject_of, read_habits_csv(folder / "habits.csv")
    )
    return format_habit_table(scores)
