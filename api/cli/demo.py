"""``crosswalk demo``: a hub on SQLite with fixture agencies, users and linked people.

Builds the store with :func:`api.demo.builder.build_demo` (encode each agency's
synthetic CSV, train, submit through the link service, re-link), prints the
quality against the generator's truth, the tokens to sign in with and a few
``curl`` calls, then serves the hub and one agency gateway per demo agency (each
synced through its gateway, each with the responder page) until interrupted
(``--no-serve`` stops after set-up).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``demo`` sub-command."""
    p = sub.add_parser("demo", help="run the hub on SQLite with demo agencies and people")
    p.add_argument("--dir", type=Path, help="where to keep the demo store (default: a temp dir)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--no-serve", action="store_true", help="build the store, print, and exit")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Build the demo hub, print how to use it, and serve it."""
    from api.demo.builder import build_demo

    directory = args.dir or Path(tempfile.mkdtemp(prefix="crosswalk-demo-"))
    print(f"Building the demo hub in {directory} ...")
    demo = build_demo(directory)
    print(f"Linked {demo.records} records from 3 agencies into {demo.subjects} subjects.")
    if demo.quality is not None:
        q = demo.quality
        print(
            f"Quality against the generator's truth: precision {q.precision:.4f}, "
            f"recall {q.recall:.4f}, F1 {q.f1:.4f}"
        )
    base = f"http://{args.host}:{args.port}"
    _print_tokens(demo.tokens)
    _print_examples(base, demo.tokens, demo.query_file, demo.consented_subject)
    if args.no_serve:
        return 0
    from api.demo.program import serve_program

    print(f"Serving the hub on {base} (OpenAPI at {base}/docs) and a gateway per agency;"
          " Ctrl-C stops.")  # fmt: skip
    serve_program(demo, args.host, args.port)
    return 0


def _print_tokens(tokens: dict[str, tuple[str, str, str]]) -> None:
    print("\nSign in with these bearer tokens (valid 7 days):")
    for user, (role, agency, token) in tokens.items():
        print(f"  {user:14s} {role:18s} {agency:18s} {token}")


def _print_examples(
    base: str, tokens: dict[str, tuple[str, str, str]], query: Path | None, subject: str | None
) -> None:
    medic, reviewer = tokens["medic"][2], tokens["reviewer"][2]
    clinician = tokens["clinician"][2]
    subject = subject or "SUBJECT_ID"
    print("\nTry:")
    print(
        f"  curl -s -X POST {base}/v1/subjects/resolve -H 'Authorization: Bearer {medic}' "
        f"--data-binary @{query}"
    )
    print(
        f"  curl -s '{base}/v1/subjects/{subject}?purpose=crisis_response' "
        f"-H 'Authorization: Bearer {medic}'"
    )
    print("  # a clinician with the person's Part 2 consent (substance use, with the notice):")
    print(
        f"  curl -s '{base}/v1/subjects/{subject}?purpose=treatment' "
        f"-H 'Authorization: Bearer {clinician}'"
    )
    print(f"  curl -s '{base}/v1/linkage/review?limit=5' -H 'Authorization: Bearer {reviewer}'\n")
