"""``crosswalk policy export`` / ``crosswalk policy import FILE``: the rule set as a file.

Both work on the configured database (``CROSSWALK_DATABASE_URL``, or
``--database-url``), migrated first. ``export`` writes the policy in force as
the commented policy file (standard output, or ``-o FILE``); ``import`` reads
one, validates it whole (a mistake names its path, e.g.
``agency.ems.rules[2].category``, and nothing is stored) and publishes it as a
new version of every scope, authored by ``cli``. Running servers pick it up
within a second.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add ``policy export`` and ``policy import``."""
    policy = sub.add_parser("policy", help="export or import the access policy")
    policy.add_argument("--database-url", help="overrides CROSSWALK_DATABASE_URL")
    verbs = policy.add_subparsers(dest="verb", required=True, metavar="VERB")
    v = verbs.add_parser("export", help="write the published policy as a commented file")
    v.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    v.set_defaults(handler=cmd_export)
    v = verbs.add_parser("import", help="validate a policy file and publish it")
    v.add_argument("file", type=Path)
    v.set_defaults(handler=cmd_import)


def _engine(args: argparse.Namespace) -> Any:
    from api.db import make_engine
    from api.hub.migrations import upgrade_database
    from api.hub.settings import Settings

    settings = Settings(**({"database_url": args.database_url} if args.database_url else {}))
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    return engine


def cmd_export(args: argparse.Namespace) -> int:
    """Write the published policy."""
    from api.hub.policies.admin import export_policy

    engine = _engine(args)
    try:
        text = export_policy(engine)
    finally:
        engine.dispose()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(f"policy written to {args.output}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Validate and publish a policy file."""
    from api.hub.policies.admin import import_policy

    text = args.file.read_text(encoding="utf-8")
    engine = _engine(args)
    try:
        label = import_policy(engine, text, author="cli")
    finally:
        engine.dispose()
    print(f"policy {args.file} published as {label}", file=sys.stderr)
    return 0
