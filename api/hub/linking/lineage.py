"""A subject's lineage: every id its records carried before merges and splits.

Re-linking merges and splits subjects and records each change as a
:class:`~api.hub.linking.tables.SubjectEventRow`. An accounting of disclosures
must follow a person through those changes, so it asks for the lineage here
rather than reading linking's tables itself.
"""

from __future__ import annotations

import orjson
from sqlmodel import Session, col, select

from api.hub.linking.tables import SubjectEventRow

__all__ = ["subject_lineage"]


def subject_lineage(session: Session, subject_id: str) -> set[str]:
    """``subject_id`` and every id its records had before merges and splits."""
    known, frontier = {subject_id}, [subject_id]
    while frontier:
        current = frontier.pop()
        rows = session.connection().execute(
            select(col(SubjectEventRow.subject_ids), col(SubjectEventRow.previous_ids)).where(
                col(SubjectEventRow.subject_ids).like(f'%"{current}"%')
            )
        )
        for subject_ids, previous_ids in rows:
            if current not in orjson.loads(subject_ids):
                continue
            for previous in orjson.loads(previous_ids):
                if previous not in known:
                    known.add(previous)
                    frontier.append(previous)
    return known
