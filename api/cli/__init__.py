"""The ``crosswalk`` command line.

Every sub-command lives in its own module and registers itself on the parser;
heavy imports happen inside the commands so that ``crosswalk --help`` is instant.
Any :class:`linkage.LinkageError`, :class:`policy.PolicyError`,
:class:`api.errors.ServiceError`, refused setting (``ValueError``, pydantic's
``ValidationError`` included) or file-system error becomes a one-line message on
standard error and exit status 2 — bad input never prints a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from api.cli import (
    audit_commands,
    demo,
    gateway_commands,
    linkage_commands,
    policy_commands,
    service_commands,
)

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="crosswalk",
        description="Privacy-preserving record linkage and consent for co-response programs.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    linkage_commands.register(sub)
    service_commands.register(sub)
    gateway_commands.register(sub)
    audit_commands.register(sub)
    policy_commands.register(sub)
    demo.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    from pydantic import ValidationError
    from sqlalchemy.exc import OperationalError

    from api.errors import ServiceError
    from linkage.errors import LinkageError
    from policy.errors import PolicyError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.handler(args)
    except (LinkageError, PolicyError, ServiceError, ValidationError) as exc:
        message = " ".join(str(exc).split())  # pydantic's ValidationError spans lines
        print(f"crosswalk {args.command}: error: {message}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        reason = type(exc.orig).__name__ if exc.orig is not None else "OperationalError"
        print(f"crosswalk {args.command}: error: the database is unreachable ({reason})",
              file=sys.stderr)  # fmt: skip
        return 2
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"crosswalk {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"crosswalk {args.command}: interrupted", file=sys.stderr)
        return 130
    return status


def entry_point() -> None:  # pragma: no cover - thin console-script wrapper
    """Console-script entry."""
    sys.exit(main())
