"""The ``crosswalk admin`` verbs, run against the configured database.

Each verb runs in one transaction through the same :mod:`api.hub.identity.service`
functions as the ``/v1/admin`` routes, with its audit event (client ``cli``).
"""

from __future__ import annotations

import argparse
import sys

from api.db import make_engine, session_scope
from api.hub.audit import CLI_CONTEXT
from api.hub.identity import service as identity
from api.hub.linking.clusters import cluster_rows
from api.hub.linking.models import import_model
from api.hub.migrations import upgrade_database
from api.hub.settings import Settings
from linkage.cluster_io import write_clusters
from linkage.match.model import FellegiSunterModel

__all__ = ["run_admin"]


def run_admin(args: argparse.Namespace, settings: Settings) -> int:
    """Execute ``args.verb``; returns the exit status."""
    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
        with session_scope(engine) as session:
            if args.verb == "create-agency":
                identity.create_agency(
                    session, args.name, settings.master_key_bytes(), context=CLI_CONTEXT
                )
                _say(f"created agency {args.name}")
            elif args.verb == "create-user":
                identity.create_user(
                    session,
                    args.username,
                    args.role,
                    args.agency,
                    cjis_authorized=args.cjis,
                    context=CLI_CONTEXT,
                )
                _say(f"created user {args.username} ({args.role} at {args.agency})")
            elif args.verb == "set-cjis":
                identity.set_cjis(session, args.username, args.state == "on", context=CLI_CONTEXT)
                _say(f"CJIS authorisation of {args.username}: {args.state}")
            elif args.verb == "issue-token":
                days = settings.token_default_days if args.expires_in is None else args.expires_in
                token = identity.issue_token(
                    session, args.username, days, context=CLI_CONTEXT, issued_by="cli"
                )
                session.commit()  # printed only once it (and its audit event) is stored
                print(token)
            elif args.verb == "revoke-token":
                count = identity.revoke_tokens(session, args.username, context=CLI_CONTEXT)
                _say(f"revoked {count} token(s) of {args.username}")
            elif args.verb == "export-clusters":
                count = write_clusters(args.output, cluster_rows(session))
                _say(f"wrote {count} records to {args.output}")
            elif args.verb == "import-model":
                model = FellegiSunterModel.load(args.model)
                import_model(session, model)
                _say(f"model for {model.schema_version} / {model.key_id} is now active")
    finally:
        engine.dispose()
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr)
