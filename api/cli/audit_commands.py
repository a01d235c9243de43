"""``crosswalk audit``: verify the log offline, print the public key, purge old events.

``crosswalk audit verify`` checks the configured database (``CROSSWALK_DATABASE_URL``)
or ``--database-url``, with the public key from ``--public-key FILE`` (PEM or
hex) or, without it, the configured signing key's. It only reads: no signing
key, no sealing. Exit status 0 only when the log is intact, 1 when it is not
(the first altered, inserted or deleted event is named on standard error),
2 when it cannot be checked.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``audit verify``, ``audit public-key`` and ``audit purge``."""
    audit = sub.add_parser("audit", help="verify and maintain the audit log")
    verbs = audit.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = verbs.add_parser("verify", help="check the whole log; exit 0 only when intact")
    v.add_argument("--database-url", help="overrides CROSSWALK_DATABASE_URL")
    v.add_argument("--public-key", type=Path, help="Ed25519 public key (PEM or hex) of the hub")
    v.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    v.set_defaults(handler=cmd_verify)
    v = verbs.add_parser("public-key", help="print the configured signing key's public key")
    v.set_defaults(handler=cmd_public_key)
    v = verbs.add_parser("purge", help="remove events older than the retention period")
    v.add_argument("--database-url", help="overrides CROSSWALK_DATABASE_URL")
    v.add_argument(
        "--older-than-years", type=int, required=True, help="at least 6 (accounting of disclosures)"
    )
    v.set_defaults(handler=cmd_purge)


def _settings(args: argparse.Namespace) -> Any:
    from api.hub.settings import Settings

    url = getattr(args, "database_url", None)
    return Settings(**({"database_url": url} if url else {}))


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify; report on stderr (or JSON on stdout)."""
    import orjson
    from sqlalchemy.exc import SQLAlchemyError

    from api.db import make_engine
    from api.hub.audit.signing import TreeHeadSigner, parse_private_key, parse_public_key
    from api.hub.audit.verify import verify_log

    settings = _settings(args)
    if args.public_key is not None:
        public_key = parse_public_key(args.public_key.read_bytes())
    else:
        public_key = TreeHeadSigner(parse_private_key(settings.audit_signing_key_text())).public_key
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            report = verify_log(connection, public_key)
    except SQLAlchemyError as exc:
        print(
            f"crosswalk audit: error: cannot read the log ({type(exc).__name__})", file=sys.stderr
        )
        return 2
    finally:
        engine.dispose()
    if args.json:
        print(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    summary = (
        f"{report.events} events chained ({report.purged} purged), {report.unsealed} queued, "
        f"{report.heads_checked} signed heads checked in {report.seconds:.1f} s"
    )
    if report.problem is None:
        print(f"audit log intact: {summary}", file=sys.stderr)
        return 0
    print(f"audit log NOT intact: {report.problem.message}", file=sys.stderr)
    print(f"({summary} before the problem)", file=sys.stderr)
    return 1


def cmd_public_key(args: argparse.Namespace) -> int:
    """Print the public key (PEM) of the configured signing key."""
    from api.hub.audit.signing import TreeHeadSigner, parse_private_key, public_pem

    signer = TreeHeadSigner(parse_private_key(_settings(args).audit_signing_key_text()))
    print(public_pem(signer.public_key), end="")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Purge events older than N years (a signed event records it)."""
    from api.db import make_engine, utcnow
    from api.hub.audit.service import AuditService
    from api.hub.migrations import upgrade_database

    settings = _settings(args)
    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
        service = AuditService(engine, settings)
        cutoff = utcnow() - timedelta(days=365 * args.older_than_years + args.older_than_years // 4)
        outcome = service.purge_before(cutoff)
    finally:
        engine.dispose()
    print(
        f"purged {outcome.events} events (chain entries up to {outcome.through_seq} kept)",
        file=sys.stderr,
    )
    return 0
