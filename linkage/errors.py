"""Errors raised by the linkage engine.

Every error the engine raises on purpose derives from :class:`LinkageError`, so a
caller (the CLI, the service) can turn any of them into a one-line message::

    LinkageError
    ├── KeyFileError            a key (linkage secret, subject-id key) is missing or short
    ├── SchemaError             a linkage schema file is invalid
    ├── InputDataError          an input CSV cannot be read (columns, encoding, emptiness)
    ├── EncodedDataError        an encoded JSON Lines file is malformed
    │   └── IncompatibleEncodingError   encodings of different schema versions or keys
    ├── ModelError              a saved model cannot be loaded or does not fit the data
    └── ConstraintError         must-link / cannot-link constraints contradict each other

Messages never contain identifier values: they name files, lines, columns and fields.
"""

from __future__ import annotations

__all__ = [
    "ConstraintError",
    "EncodedDataError",
    "IncompatibleEncodingError",
    "InputDataError",
    "KeyFileError",
    "LinkageError",
    "ModelError",
    "SchemaError",
]


class LinkageError(Exception):
    """Root of every error the linkage engine raises deliberately."""


class KeyFileError(LinkageError):
    """A key (the linkage secret, a subject-id key) cannot be used (missing, unreadable, short)."""


class SchemaError(LinkageError):
    """A linkage schema (TOML) is malformed or names unknown fields."""


class InputDataError(LinkageError):
    """An input file of identifiers cannot be processed as a whole."""


class EncodedDataError(LinkageError):
    """An encoded-records file is malformed."""


class IncompatibleEncodingError(EncodedDataError):
    """Encodings made under different schema versions or key ids were mixed."""


class ModelError(LinkageError):
    """A Fellegi-Sunter model file is malformed or incompatible with the data."""


class ConstraintError(LinkageError):
    """Reviewer constraints are malformed or contradict each other."""
