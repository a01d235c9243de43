"""Build encoded tables from plaintext rows for tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.schema import default_schema
from linkage.table import EncodedTable, table_from_lines

SECRET = LinkageSecret(b"test-secret-for-crosswalk-linkage")


def table_of(rows: Sequence[Mapping[str, str]], agency: str = "a") -> EncodedTable:
    """Encode rows (record_id defaults to the row index) into a table."""
    encoder = RecordEncoder(default_schema(), SECRET, agency)
    lines = []
    for i, row in enumerate(rows):
        record, _ = encoder.encode(row.get("record_id", str(i)), row)
        lines.append(record.to_json())
    return table_from_lines(lines)
