"""The prior model: what a hub scores with before it has trained a model of its own.

A new hub has too few records for EM to estimate ``m`` (and until the first
re-link, no model at all), so a pilot with one small agency would resolve
nothing. The package therefore ships a prior Fellegi–Sunter model
(``data/prior_model.json``), trained by ``python -m tools.train_prior`` on the
synthetic generator's 3,000-person demo population (``api/demo/data``, three
agencies, ~6,400 records) under a throw-away key.

What carries over to another program's key, and what does not:

* the ``m_probability`` and ``u_probability`` of every comparison level — how
  often a level occurs among matches and among random pairs — are properties
  of how people's records differ, not of the key, so they transfer;
* term frequencies are tables of *keyed* token values, meaningless under any
  other key: the prior has none, so common names are not down-weighted until
  the hub trains its own model;
* ``probability_two_random_records_match`` (λ) is the demo population's; a
  small pilot's true λ is higher, so the prior errs towards *fewer* links.

:func:`prior_model` stamps the prior with the hub's key id and schema version;
a hub answers with it only while it has no trained model, and says so.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib import resources
from typing import Any

import orjson

from linkage.errors import ModelError
from linkage.match.model import FellegiSunterModel

__all__ = ["PRIOR_RESOURCE", "prior_model"]

#: The packaged prior's file name (in ``linkage/match/data``).
PRIOR_RESOURCE = "prior_model.json"


@cache
def _prior_data() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(
        resources.files("linkage.match").joinpath("data", PRIOR_RESOURCE).read_bytes()
    )
    return data


def prior_model(schema_version: str, key_id: str) -> FellegiSunterModel:
    """The packaged prior, for encodings of ``schema_version`` under ``key_id``.

    Raises:
        ModelError: the prior is of another schema version (the package is
            inconsistent; ``python -m tools.train_prior`` rebuilds it).
    """
    model = FellegiSunterModel.from_dict(_prior_data())
    if model.schema_version != schema_version:
        raise ModelError(
            f"the packaged prior model is for {model.schema_version}, not {schema_version}"
        )
    return dataclasses.replace(model, key_id=key_id, tf={})
