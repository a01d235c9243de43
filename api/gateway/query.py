"""A responder's plaintext query, checked and encoded inside the agency.

:class:`PersonQuery` is what a responder types: any of the canonical identifier
fields, at least a name or a birth date. :func:`encode_query` normalises and
encodes it with the agency's linkage secret into the one-line encoded record the
hub's resolve takes — the plaintext goes no further than this function. A value
the normalisers cannot read (a date that is not a date, a phone with too few
digits) is refused naming the field, never echoing the value: the responder
should know their query was not understood rather than get a weaker match.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from linkage.encode.encoding import RecordEncoder
from linkage.schema import IDENTIFIER_FIELDS

__all__ = ["QUERY_FIELDS", "PersonQuery", "QueryRefused", "encode_query"]

#: The identifier fields a query may carry (the canonical input columns).
QUERY_FIELDS: tuple[str, ...] = IDENTIFIER_FIELDS

_TEXT = Field(default="", max_length=200)


class QueryRefused(ValueError):
    """A query field could not be read; ``field`` names it (the value is never shown)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class PersonQuery(BaseModel):
    """The identifiers of the person in front of the responder (any subset)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    given_name: str = _TEXT
    middle_name: str = _TEXT
    family_name: str = _TEXT
    birth_date: str = Field(
        default="", max_length=40, description="YYYY-MM-DD, MM/DD/YYYY or YYYYMMDD"
    )
    sex: str = Field(default="", max_length=20)
    street_address: str = _TEXT
    city: str = _TEXT
    postcode: str = Field(default="", max_length=20)
    phone: str = Field(default="", max_length=40)
    ssn: str = Field(default="", max_length=20)

    @model_validator(mode="after")
    def _name_or_date(self) -> PersonQuery:
        if not (self.given_name or self.family_name or self.birth_date):
            raise ValueError("give at least a name (given or family) or a birth date")
        return self

    def values(self) -> dict[str, str]:
        """The non-empty fields by canonical name."""
        return {name: value for name in QUERY_FIELDS if (value := getattr(self, name))}


def encode_query(encoder: RecordEncoder, query: PersonQuery) -> bytes:
    """The query as one encoded line for the hub's resolve (``record_id`` "query").

    Raises:
        QueryRefused: a given field could not be read by its normaliser.
    """
    values = query.values()
    record, status = encoder.encode("query", values)
    for name in QUERY_FIELDS:
        if name in values and status.get(name) == "unparseable":
            raise QueryRefused(name, f"{name} could not be read; check its format")
    if not record.tokens:
        raise QueryRefused("given_name", "nothing in the query could be encoded")
    return record.to_json()
