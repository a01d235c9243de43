"""The stored clustering as ``agency,record_id,subject_id,match_probability`` rows.

The same rows and format as ``crosswalk link`` writes, for every live record, so
an export can be compared with a batch run or fed back as ``--previous``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlmodel import Session, col, select

from api.hub.records.tables import StoredRecord
from linkage.cluster_io import CLUSTER_COLUMNS

__all__ = ["cluster_csv_chunks", "cluster_rows"]


def cluster_rows(session: Session) -> Iterator[tuple[str, str, str, float]]:
    """Every live record's row, ordered by agency and record id."""
    query = (
        select(
            StoredRecord.agency,
            StoredRecord.record_id,
            StoredRecord.subject_id,
            StoredRecord.match_probability,
        )
        .where(col(StoredRecord.retracted).is_(False))
        .order_by(col(StoredRecord.agency), col(StoredRecord.record_id))
        .execution_options(yield_per=5000)
    )
    yield from session.exec(query)


def cluster_csv_chunks(session: Session, rows_per_chunk: int = 5000) -> Iterator[str]:
    """The CSV text in chunks (for streaming responses)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CLUSTER_COLUMNS)
    for n, (agency, record_id, subject, p) in enumerate(cluster_rows(session), start=1):
        writer.writerow((agency, record_id, subject, f"{p:.6f}"))
        if n % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
