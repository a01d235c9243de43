"""Crosswalk's linkage engine: agency-side keyed encoding and hub-side matching.

Agencies normalise and encode identifiers with a shared secret
(:class:`RecordEncoder`, :func:`encode_csv`); the hub loads the encodings
(:func:`load_encoded_files`), links them with a Fellegi–Sunter model
(:func:`link_table`) and keeps subject ids stable across runs. The package is
pure: no web, database or settings framework; keys and settings are passed in.
"""

from linkage.encode.encode_file import EncodeReport, encode_csv
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret, generate_secret, read_secret, write_secret
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
from linkage.match.blocking import DEFAULT_RULES, BlockingRule, candidate_pairs
from linkage.match.incremental import BatchOutcome, Candidate, RecordLink, link_batch, resolve
from linkage.match.index import LinkIndex, StaleIndexError
from linkage.match.model import FellegiSunterModel
from linkage.match.pipeline import LinkResult, LinkSettings, link_table
from linkage.match.subjects import SubjectEvent, assign_subject_ids
from linkage.match.training import train_model
from linkage.records import CONTEXT_CATEGORIES, EncodedRecord
from linkage.row_codec import row_blobs, table_from_blobs
from linkage.schema import LinkageSchema, default_schema, load_schema
from linkage.table import EncodedTable, load_encoded_files, table_from_lines

__all__ = [
    "CONTEXT_CATEGORIES",
    "DEFAULT_RULES",
    "BatchOutcome",
    "BlockingRule",
    "Candidate",
    "ConstraintError",
    "EncodeReport",
    "EncodedDataError",
    "EncodedRecord",
    "EncodedTable",
    "FellegiSunterModel",
    "IncompatibleEncodingError",
    "InputDataError",
    "KeyFileError",
    "LinkIndex",
    "LinkResult",
    "LinkSettings",
    "LinkageError",
    "LinkageSchema",
    "LinkageSecret",
    "ModelError",
    "RecordEncoder",
    "RecordLink",
    "SchemaError",
    "StaleIndexError",
    "SubjectEvent",
    "assign_subject_ids",
    "candidate_pairs",
    "default_schema",
    "encode_csv",
    "generate_secret",
    "link_batch",
    "link_table",
    "load_encoded_files",
    "load_schema",
    "read_secret",
    "resolve",
    "row_blobs",
    "table_from_blobs",
    "table_from_lines",
    "train_model",
    "write_secret",
]
