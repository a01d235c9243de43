"""Crosswalk's linkage engine: agency-side encoding, hub-side admission and matching.

Three sides, independent of each other (import contracts check it), over shared
modules: :mod:`linkage.encode` (agencies: normalise and encode identifiers with
the shared secret), :mod:`linkage.admission` (the hub: what a submitted batch
must look like) and :mod:`linkage.match` (the hub: blocking, Fellegi–Sunter,
clustering, incremental links). This package itself exports only the shared
record format, schemas, tables and errors, so importing it loads no side. The
package is pure: no web, database or settings framework; keys and settings are
passed in.
"""

from linkage.errors import (
    ConstraintError,
    EncodedDataError,
    IncompatibleEncodingError,
    InputDataError,
    KeyFileError,
    LinkageError,
    ModelError,
    SchemaError,
)
from linkage.records import CONTEXT_CATEGORIES, EncodedRecord
from linkage.row_codec import row_blobs, table_from_blobs
from linkage.schema import LinkageSchema, default_schema, load_schema
from linkage.table import EncodedTable, load_encoded_files, table_from_lines

__all__ = [
    "CONTEXT_CATEGORIES",
    "ConstraintError",
    "EncodedDataError",
    "EncodedRecord",
    "EncodedTable",
    "IncompatibleEncodingError",
    "InputDataError",
    "KeyFileError",
    "LinkageError",
    "LinkageSchema",
    "ModelError",
    "SchemaError",
    "default_schema",
    "load_encoded_files",
    "load_schema",
    "row_blobs",
    "table_from_blobs",
    "table_from_lines",
]
