"""The Fellegi–Sunter model: how much each level of agreement says about a match.

For a pair of records with comparison vector ``γ`` (one level per comparison), the
model compares two hypotheses, *match* (M) and *non-match* (U):

* ``m_probability`` of a level = P(level | M), e.g. how often two records of the
  same person have exactly equal surnames (high, but typos and marriages happen);
* ``u_probability`` = P(level | U), how often two records of *different* people do
  (low for a rare surname, higher for "Smith").

Assuming the comparisons are conditionally independent given the class, the
evidence multiplies: the Bayes factor of the pair is ``∏ m/u`` and its
``match_weight`` is ``log2(prior odds) + Σ log2(m/u)``; the ``match_probability``
is ``1 / (1 + 2^-match_weight)``. The null level (a value missing) has
``m = u`` — no evidence either way.

Estimation needs no labels:

1. ``u`` is first estimated by **random sampling** of record pairs (almost all
   random pairs are non-matches), giving the reference agreement rates;
2. ``m``, ``u`` among candidate pairs and the share of matches among them are
   then fitted by **expectation–maximisation** on the candidate pairs, started from
   those estimates; EM runs over the distinct comparison vectors with their
   counts, so it costs the same for 10 thousand or 10 million pairs. Blocking
   makes candidate non-matches agree more often than random pairs, so ``u`` is
   re-estimated within the candidates rather than taken from the random sample.
3. **Term-frequency adjustment**: agreeing exactly on a common value ("Smith")
   is weaker evidence than on a rare one. The exact level's Bayes factor is
   multiplied by ``Σ_v f_v² / f_v`` for the agreed value ``v`` with frequency
   ``f_v``; averaged over random agreeing pairs this factor is 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from linkage.errors import ModelError
from linkage.match.comparisons import COMPARISONS, Comparison, comparison_levels
from linkage.match.dependence import JointCell, pair_share
from linkage.table import EncodedTable

__all__ = [
    "FellegiSunterModel",
    "bayes_factor_to_prob",
    "prob_to_bayes_factor",
]

MODEL_FORMAT = "crosswalk-fs-model/1"
F64 = npt.NDArray[np.float64]
_TF_CLAMP = (0.01, 100.0)


def prob_to_bayes_factor(p: float) -> float:
    """Odds ``p / (1 − p)``."""
    return p / (1.0 - p)


def bayes_factor_to_prob(bf: F64) -> F64:
    """Probability from odds (vectorised)."""
    return bf / (1.0 + bf)


@dataclass
class TermFrequencies:
    """Sorted token values and their relative frequencies, for one token column."""

    values: npt.NDArray[np.int64]
    freqs: F64
    sum_sq: float

    def adjustment(self, tokens: npt.NDArray[np.int64]) -> F64:
        """Multiplicative Bayes-factor adjustment for pairs agreeing on ``tokens``."""
        pos = np.clip(np.searchsorted(self.values, tokens), 0, max(len(self.values) - 1, 0))
        found = self.values[pos] == tokens if len(self.values) else np.zeros(len(tokens), bool)
        floor = 1.0 / max(len(self.values), 1)
        f = np.where(found, self.freqs[pos] if len(self.values) else floor, floor)
        return np.clip(self.sum_sq / np.maximum(f, 1e-12), *_TF_CLAMP)

    @classmethod
    def from_column(cls, column: npt.NDArray[np.int64]) -> TermFrequencies:
        """Frequencies of the non-missing values of a token column."""
        values, counts = np.unique(column[column != 0], return_counts=True)
        freqs = counts / max(counts.sum(), 1)
        return cls(values, freqs, float((freqs**2).sum()))


@dataclass
class FellegiSunterModel:
    """Fitted parameters; see the module docstring for their meaning."""

    schema_version: str
    key_id: str
    comparisons: tuple[Comparison, ...]
    m: list[F64]
    u: list[F64]
    u_random: list[F64]
    prior: float  # share of matches among candidate pairs
    probability_two_random_records_match: float
    tf: dict[str, TermFrequencies] = field(default_factory=dict)
    em_iterations: int = 0
    joint: dict[JointCell, float] = field(default_factory=dict)  # cell -> bits (<= 0)

    def level_weights(self) -> list[F64]:
        """``log2(m/u)`` per comparison and level (0 for the null level).

        Scoring uses ``u`` from random sampling and the prior λ of a *random* pair,
        so any pair — a blocked candidate or not — is scored on the same scale; ``m``
        comes from EM over the candidates, which hold nearly all true matches.

        A level listed in a comparison's ``against`` weighs at most what the else
        level does: consecutive SSNs are rare among random pairs (tiny ``u``) and
        rarer still among matches, so ``m/u`` alone would call them evidence for a
        match, when in fact they are what twins share.
        """
        out = []
        for comp, m, u in zip(self.comparisons, self.m, self.u_random, strict=True):
            w = np.log2(np.maximum(m, 1e-12) / np.maximum(u, 1e-12))
            w[0] = 0.0
            for level in comp.against:
                w[level] = min(w[level], w[-1])
            out.append(w)
        return out

    def match_weight(
        self, table: EncodedTable, left: npt.NDArray[np.int64], right: npt.NDArray[np.int64]
    ) -> tuple[F64, npt.NDArray[np.int8]]:
        """``match_weight`` of each pair, and the level matrix it came from."""
        levels = comparison_levels(table, left, right, self.comparisons)
        return self.weight_from_levels(levels, table, left), levels

    def weight_from_levels(
        self, levels: npt.NDArray[np.int8], table: EncodedTable, left: npt.NDArray[np.int64]
    ) -> F64:
        """``match_weight`` from a precomputed level matrix."""
        prior_odds = prob_to_bayes_factor(self.probability_two_random_records_match)
        weight = np.full(len(levels), np.log2(prior_odds))
        for j, (comp, w) in enumerate(zip(self.comparisons, self.level_weights(), strict=True)):
            weight += w[levels[:, j]]
            for level, token in ((1, comp.tf_token), *comp.tf_levels):
                tf = self.tf.get(token or "")
                if tf is not None:
                    agree = levels[:, j] == level
                    tokens = table.token(token or "")[left[agree]]
                    weight[agree] += np.log2(tf.adjustment(tokens))
        names = [c.name for c in self.comparisons]
        for cell, bits in self.joint.items():
            if cell.comparison_a in names and cell.comparison_b in names:
                ja, jb = names.index(cell.comparison_a), names.index(cell.comparison_b)
                weight[(levels[:, ja] == cell.level_a) & (levels[:, jb] == cell.level_b)] += bits
        return weight

    def fit_joint_cells(self, table: EncodedTable, cells: tuple[JointCell, ...]) -> None:
        """Measure each cell's real agreement share and store its correction.

        See :mod:`linkage.match.dependence` for the derivation.
        """
        names = [c.name for c in self.comparisons]
        lam = self.probability_two_random_records_match
        for cell in cells:
            if cell.comparison_a not in names or cell.comparison_b not in names:
                continue
            ja, jb = names.index(cell.comparison_a), names.index(cell.comparison_b)
            m_ab = self.m[ja][cell.level_a] * self.m[jb][cell.level_b]
            u_ab = self.u_random[ja][cell.level_a] * self.u_random[jb][cell.level_b]
            share = pair_share(table, cell.token_a, cell.token_b)
            u_cell = max((share - lam * m_ab) / (1.0 - lam), u_ab)
            self.joint[cell] = float(np.log2(u_ab / u_cell))

    @staticmethod
    def probability(weight: F64) -> F64:
        """``match_probability`` from ``match_weight``."""
        return 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))

    def check_compatible(self, table: EncodedTable) -> None:
        """Refuse to score encodings of another schema version or key."""
        if (table.schema_version, table.key_id) != (self.schema_version, self.key_id):
            raise ModelError(
                f"model was trained on {self.schema_version} / {self.key_id} encodings, "
                f"not {table.schema_version} / {table.key_id}"
            )

    # --- persistence -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description, including per-level weights for inspection."""
        weights = self.level_weights()
        return {
            "format": MODEL_FORMAT,
            "schema_version": self.schema_version,
            "key_id": self.key_id,
            "prior_among_candidates": self.prior,
            "probability_two_random_records_match": self.probability_two_random_records_match,
            "em_iterations": self.em_iterations,
            "comparisons": [
                {
                    "name": comp.name,
                    "levels": [
                        {
                            "label": label,
                            "m_probability": float(self.m[j][i]),
                            "u_probability": float(self.u[j][i]),
                            "u_probability_random": float(self.u_random[j][i]),
                            "match_weight": float(weights[j][i]),
                        }
                        for i, label in enumerate(comp.levels)
                    ],
                }
                for j, comp in enumerate(self.comparisons)
            ],
            "joint_corrections": [
                {**{k: getattr(cell, k) for k in JointCell.__slots__}, "bits": bits}
                for cell, bits in self.joint.items()
            ],
            "term_frequencies": {
                name: {
                    "values": [int(v) for v in tf.values.view(np.uint64)],
                    "freqs": tf.freqs.tolist(),
                }
                for name, tf in self.tf.items()
            },
        }

    def save(self, path: Path) -> None:
        """Write the model as JSON (atomically)."""
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> FellegiSunterModel:
        """Read a model saved by :meth:`save`.

        Raises:
            ModelError: if the file is unreadable or not a compatible model.
        """
        try:
            data = orjson.loads(path.read_bytes())
            return cls._from_dict(data)
        except OSError as exc:
            raise ModelError(f"cannot read model {path}: {exc.strerror}") from exc
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{path} is not a valid crosswalk model") from exc

    @classmethod
    def from_dict(cls, data: Any) -> FellegiSunterModel:
        """Rebuild a model from :meth:`to_dict` output (e.g. stored in a database).

        Raises:
            ModelError: if ``data`` is not a compatible model description.
        """
        try:
            return cls._from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError("not a valid crosswalk model") from exc

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> FellegiSunterModel:
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ModelError("not a crosswalk model (missing or unsupported 'format')")
        by_name = {c.name: c for c in COMPARISONS}
        comps, m, u, ur = [], [], [], []
        for entry in data["comparisons"]:
            comp = by_name[entry["name"]]
            if tuple(level["label"] for level in entry["levels"]) != comp.levels:
                raise ModelError(f"comparison {comp.name} has different levels in this version")
            comps.append(comp)
            m.append(np.array([lv["m_probability"] for lv in entry["levels"]]))
            u.append(np.array([lv["u_probability"] for lv in entry["levels"]]))
            ur.append(np.array([lv["u_probability_random"] for lv in entry["levels"]]))
        tf = {}
        for name, entry in data.get("term_frequencies", {}).items():
            values = np.array(entry["values"], dtype=np.uint64).view(np.int64)
            freqs = np.array(entry["freqs"], dtype=np.float64)
            order = np.argsort(values)
            tf[name] = TermFrequencies(values[order], freqs[order], float((freqs**2).sum()))
        joint = {
            JointCell(*(entry[k] for k in JointCell.__slots__)): float(entry["bits"])
            for entry in data.get("joint_corrections", [])
        }
        return cls(
            data["schema_version"], data["key_id"], tuple(comps), m, u, ur,
            float(data["prior_among_candidates"]),
            float(data["probability_two_random_records_match"]),
            tf, int(data.get("em_iterations", 0)), joint,
        )  # fmt: skip
