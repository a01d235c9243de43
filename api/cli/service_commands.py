"""Service sub-commands: ``serve``, ``admin …`` and ``submit``.

``serve`` and ``admin`` bring the configured database (``CROSSWALK_DATABASE_URL``,
or ``--database-url``) up to the newest schema before doing anything else.
``admin`` commands are scriptable: ``issue-token`` prints only the token on
standard output; everything else reports on standard error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``serve``, ``admin`` and ``submit``."""
    p = sub.add_parser("serve", help="run the hub service (HTTP)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--database-url", help="overrides CROSSWALK_DATABASE_URL")
    p.set_defaults(handler=cmd_serve)

    admin = sub.add_parser("admin", help="administer agencies, users and tokens")
    admin.add_argument("--database-url", help="overrides CROSSWALK_DATABASE_URL")
    verbs = admin.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = verbs.add_parser("create-agency", help="create an agency")
    v.add_argument("name")
    v = verbs.add_parser("create-user", help="create a user with one role at one agency")
    v.add_argument("username")
    v.add_argument("--role", required=True)
    v.add_argument("--agency", required=True)
    v.add_argument("--cjis", action="store_true", help="the user holds CJIS authorisation")
    v = verbs.add_parser("set-cjis", help="grant or withdraw a user's CJIS authorisation")
    v.add_argument("username")
    v.add_argument("state", choices=("on", "off"))
    v = verbs.add_parser("issue-token", help="issue a bearer token (printed on stdout only)")
    v.add_argument("username")
    v.add_argument("--expires-in", type=float, metavar="DAYS", help="lifetime in days")
    v = verbs.add_parser("revoke-token", help="revoke every token of a user")
    v.add_argument("username")
    v = verbs.add_parser("export-clusters", help="write every stored record's subject as CSV")
    v.add_argument("-o", "--output", type=Path, required=True)
    v = verbs.add_parser("import-model", help="make a model saved by `crosswalk link` active")
    v.add_argument("model", type=Path)
    admin.set_defaults(handler=cmd_admin)

    p = sub.add_parser("submit", help="send an encoded JSON Lines file to the hub")
    p.add_argument("input", type=Path, help="output of `crosswalk encode`")
    p.add_argument("--hub", required=True, help="hub base URL, e.g. https://hub.example.org")
    p.add_argument("--token-file", type=Path, required=True, help="file holding a bearer token")
    p.add_argument("--batch-size", type=int, default=1000, help="records per request")
    p.set_defaults(handler=cmd_submit)


def _settings(args: argparse.Namespace) -> Any:
    from api.hub.settings import Settings

    overrides = {"database_url": args.database_url} if args.database_url else {}
    return Settings(**overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate, then serve with uvicorn."""
    import os

    import uvicorn

    from api.db import make_engine
    from api.hub.audit.sealer_process import sealer_process
    from api.hub.migrations import upgrade_database

    if args.database_url:
        os.environ["CROSSWALK_DATABASE_URL"] = args.database_url
    settings = _settings(args)
    settings.master_key_bytes()  # refuse a missing or development key before binding
    settings.audit_signing_key_text()  # ... and the same for the audit signing key
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    engine.dispose()
    _exit_on_signals()
    with sealer_process(settings.audit_seal_interval_seconds):  # one, outside the workers
        uvicorn.run(
            "api.hub.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # uvicorn believes X-Forwarded-For from loopback unless told otherwise:
            # only the configured proxies, and by default none.
            proxy_headers=bool(settings.trusted_proxies.strip()),
            forwarded_allow_ips=settings.trusted_proxies.strip() or None,
            log_level="info",
            access_log=False,  # paths carry subject ids; metrics cover request counts
        )
    return 0


def _exit_on_signals() -> None:
    """Turn SIGTERM and SIGINT into ``SystemExit``, so ``finally`` blocks stop the children.

    uvicorn catches both, shuts down, then raises the signal again with the
    handler it found installed. Under Python's default SIGTERM disposition that
    killed the process outright, and the sealer process (and its resource
    tracker) outlived it; with this handler the re-raised signal unwinds
    ``sealer_process``, which stops the child before the server exits.
    """
    import signal

    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)


def cmd_admin(args: argparse.Namespace) -> int:
    """Run one administration verb against the configured database."""
    from api.cli.admin import run_admin

    return run_admin(args, _settings(args))


def cmd_submit(args: argparse.Namespace) -> int:
    """Send the file in batches (idempotent, so a retried batch is harmless)."""
    from api.cli.submit import submit_file

    token = args.token_file.read_text(encoding="utf-8").strip()
    return submit_file(
        args.input, args.hub, token, batch_size=args.batch_size, progress=sys.stderr.isatty()
    )
