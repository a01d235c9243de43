"""``crosswalk gateway serve`` and ``crosswalk gateway sync``: the agency side of the program.

``serve`` runs the gateway (JSON API and responder page) inside the agency with
the program's key; with ``--sync-every MINUTES --export-dir DIR`` it also syncs
that export folder on a schedule, with the data steward's token from
``--token-file``. ``sync`` runs one sync now and prints its report (added,
changed, unchanged, retracted, refused with reasons, absent columns); it exits 0
when the sync completed with nothing refused, 1 when some records were refused,
2 when it could not complete (a later run resumes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def _context(values: list[str] | None) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for item in values or []:
        category, sep, columns = item.partition("=")
        if not sep or not columns.strip():
            raise ValueError(f"--context wants CATEGORY=COL[,COL...], got {item!r}")
        out[category.strip()] = tuple(c.strip() for c in columns.split(",") if c.strip())
    return out


def _common(p: Any) -> None:
    p.add_argument("--hub", required=True, help="hub base URL, e.g. https://hub.example.org")
    p.add_argument("--agency", required=True, help="this agency's name at the hub")
    p.add_argument("--key-file", type=Path, required=True, help="the program's linkage secret")
    p.add_argument("--schema", type=Path, help="the agency's linkage schema (TOML)")
    p.add_argument(
        "--state-dir", type=Path, default=Path("gateway-state"),
        help="where the gateway keeps its store (default ./gateway-state)",
    )  # fmt: skip
    p.add_argument(
        "--context", action="append", metavar="CATEGORY=COL,…",
        help="share these export columns as context of CATEGORY (repeatable)",
    )  # fmt: skip


def register(sub: Any) -> None:
    """Add ``gateway serve`` and ``gateway sync``."""
    gateway = sub.add_parser("gateway", help="the agency gateway (encode, page, sync)")
    verbs = gateway.add_subparsers(dest="verb", required=True, metavar="VERB")
    p = verbs.add_parser("serve", help="run the gateway service (JSON API and responder page)")
    _common(p)
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8100, help="port (default 8100)")
    p.add_argument("--secure-cookies", action="store_true", help="served over TLS (a proxy)")
    p.add_argument("--sync-every", type=float, metavar="MINUTES", help="sync on a schedule")
    p.add_argument("--export-dir", type=Path, help="the export folder the schedule syncs")
    p.add_argument("--token-file", type=Path, help="data steward token for scheduled syncs")
    p.set_defaults(handler=cmd_serve)
    p = verbs.add_parser("sync", help="sync an export (CSV file or folder) to the hub now")
    p.add_argument("path", type=Path, help="a CSV export, or a folder of them")
    _common(p)
    p.add_argument("--token-file", type=Path, required=True, help="the data steward's token")
    p.add_argument("--batch-size", type=int, default=1000, help="records per request")
    p.set_defaults(handler=cmd_sync)


def _settings(args: argparse.Namespace, **extra: Any) -> Any:
    from api.gateway.settings import GatewaySettings

    return GatewaySettings(
        hub_url=args.hub, agency=args.agency, key_file=args.key_file, state_dir=args.state_dir,
        schema_file=args.schema, context=_context(args.context), **extra,
    )  # fmt: skip


def cmd_sync(args: argparse.Namespace) -> int:
    """Run one sync and print its report."""
    from api.gateway.scheduled import run_sync
    from api.gateway.sync import SyncAborted

    settings = _settings(args)
    token = args.token_file.read_text(encoding="utf-8").strip()
    try:
        report = run_sync(settings, args.path, token, batch_size=args.batch_size, progress=True)
    except SyncAborted as exc:
        print(f"crosswalk gateway sync: error: {exc.args[0]}", file=sys.stderr)
        if len(exc.args) > 1:
            for line in exc.args[1].lines():
                print(f"  {line}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    return 1 if report.refused else 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the gateway (and its scheduled sync)."""
    import uvicorn

    from api.gateway.app import create_gateway_app

    if args.sync_every is not None and not (args.export_dir and args.token_file):
        raise ValueError("--sync-every needs --export-dir and --token-file")
    settings = _settings(
        args, cookie_secure=args.secure_cookies,
        sync_every_minutes=args.sync_every, export_dir=args.export_dir, token_file=args.token_file,
    )  # fmt: skip
    settings.secret  # noqa: B018 - read the key now: a bad key file stops here, not on a call
    uvicorn.run(create_gateway_app(settings), host=args.host, port=args.port, log_level="info")
    return 0
