"""Bounds for integer path and query parameters, matching the columns they reach.

An integer the database column cannot hold is not a missing row but a bad
request: PostgreSQL refuses to bind it and SQLite's driver overflows past
2^63-1, both as a 500. Each parameter is bounded by the column it is compared
with (``INTEGER`` ids up to 2^31-1, the audit log's ``BIGINT`` sequence numbers
and tree sizes up to 2^63-1), so FastAPI answers 422 before any query runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

__all__ = ["BIGINT_MAX", "INTEGER_MAX", "BigRowId", "RowId"]

#: Largest value of a SQL ``INTEGER`` (PostgreSQL ``int4``).
INTEGER_MAX = 2**31 - 1
#: Largest value of a SQL ``BIGINT`` (PostgreSQL ``int8``; SQLite's integer).
BIGINT_MAX = 2**63 - 1

#: The id of a row in an ``INTEGER``-keyed table, as a path parameter.
RowId = Annotated[int, Path(ge=1, le=INTEGER_MAX)]
#: The id of an audit event (``BIGINT``), as a path parameter.
BigRowId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
