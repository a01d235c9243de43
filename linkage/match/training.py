"""Estimating a Fellegi–Sunter model without labels.

1. **u by random sampling.** Random record pairs are almost all non-matches, so
   the share of each comparison level among them estimates ``u_probability``.
2. **m by EM in training sessions.** EM over all candidate pairs is unstable: as
   the data grow, candidate pairs fill with people who share a common name, and
   EM happily calls "same name" the match class — the disagreement weights of
   birth date or SSN then collapse and families chain together. So, as splink
   does, EM runs in *sessions*, each over the candidates that agree exactly on
   some fields (birth date; or given and family name). Inside a session those
   fields carry no information and are left out, the remaining comparisons of
   non-matches behave like those of random pairs, and ``u`` can stay fixed at
   its random-sample value while EM estimates ``m`` and the match share. Each
   comparison's ``m`` comes from the sessions that did not block on it.
3. **λ**, the probability that two random records match, is the share of
   matches among all candidates (EM with ``m`` and ``u`` fixed) times the number
   of candidates over the number of all pairs.
4. Term frequencies of names and the household correction
   (:mod:`linkage.match.dependence`) complete the model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from linkage.match.comparisons import COMPARISONS, Comparison, comparison_levels
from linkage.match.dependence import HOUSEHOLD_CELLS
from linkage.match.model import FellegiSunterModel, TermFrequencies, prob_to_bayes_factor
from linkage.table import EncodedTable

__all__ = ["distinct_patterns", "estimate_u_random", "train_model"]

F64 = npt.NDArray[np.float64]
Patterns = npt.NDArray[np.int8]
_FLOOR = 0.002  # no level is ever (near-)impossible: one field never vetoes a match
_MIN_SESSION_PAIRS = 200


def _normalise(v: F64, floor: float = 0.0) -> F64:
    """Distribution over the non-null levels (index 0, the null level, set to 1)."""
    v = v.astype(np.float64, copy=True)
    v[0] = 0.0
    total = v[1:].sum()
    v[1:] = v[1:] / total if total > 0 else 1.0 / (len(v) - 1)
    if floor:
        v[1:] = np.maximum(v[1:], floor)
        v[1:] /= v[1:].sum()
    v[0] = 1.0  # null level: m = u, no evidence
    return v


def _level_frequencies(levels: Patterns, comps: tuple[Comparison, ...]) -> list[F64]:
    """Laplace-smoothed share of each non-null level, per comparison."""
    out = []
    for j, comp in enumerate(comps):
        counts = np.bincount(levels[:, j], minlength=len(comp.levels)).astype(np.float64)
        counts[0] = 0.0
        counts[1:] += 1.0
        out.append(_normalise(counts))
    return out


def estimate_u_random(
    table: EncodedTable, comps: tuple[Comparison, ...], *, samples: int, seed: int
) -> list[F64]:
    """``u`` from random record pairs (nearly all non-matches)."""
    rng = np.random.default_rng(seed)
    n = len(table)
    left = rng.integers(0, n, size=samples)
    right = rng.integers(0, n, size=samples)
    keep = left != right
    return _level_frequencies(comparison_levels(table, left[keep], right[keep], comps), comps)


def _initial_m(comps: tuple[Comparison, ...]) -> list[F64]:
    """A deliberately rough start: matches mostly agree at the strongest level."""
    out = []
    for comp in comps:
        raw = np.array([0.0, *(0.5 ** np.arange(len(comp.levels) - 1) * 0.9)])
        raw[-1] = 0.02
        out.append(_normalise(raw))
    return out


def distinct_patterns(levels: Patterns, radix: int) -> tuple[Patterns, npt.NDArray[np.int64]]:
    """Distinct rows of a level matrix and how often each occurs.

    Rows are packed into one integer in base ``radix`` (which must exceed every
    level index) so that NumPy can count them in one ``unique`` call.
    """
    codes = np.zeros(len(levels), dtype=np.int64)
    for j in range(levels.shape[1]):
        codes = codes * radix + levels[:, j]
    unique, counts = np.unique(codes, return_counts=True)
    patterns = np.empty((len(unique), levels.shape[1]), dtype=np.int8)
    rest = unique.copy()
    for j in range(levels.shape[1] - 1, -1, -1):
        patterns[:, j] = rest % radix
        rest //= radix
    return patterns, counts


def _posterior(patterns: Patterns, m: list[F64], u: list[F64], share: float, use: list[int]) -> F64:
    log_ratio = np.zeros(len(patterns))
    for j in use:
        log_ratio += np.log(m[j][patterns[:, j]]) - np.log(u[j][patterns[:, j]])
    odds = prob_to_bayes_factor(share) * np.exp(np.clip(log_ratio, -700, 700))
    return odds / (1.0 + odds)


def _em_fixed_u(
    patterns: Patterns,
    counts: F64,
    m: list[F64],
    u: list[F64],
    use: list[int],
    *,
    estimate_m: bool = True,
    iterations: int = 200,
    tolerance: float = 1e-7,
) -> tuple[list[F64], float]:
    """EM for the match share and (with ``estimate_m``) ``m`` of the comparisons in
    ``use``, which alone enter the posterior; ``u`` is held fixed."""
    m = [x.copy() for x in m]
    share = 0.1
    for _ in range(iterations):
        post = _posterior(patterns, m, u, share, use)
        delta = 0.0
        for j in use if estimate_m else ():
            weights = np.bincount(patterns[:, j], counts * post, len(m[j])).astype(np.float64)
            new = _normalise(weights + 1e-9, _FLOOR)
            delta = max(delta, float(np.abs(new - m[j]).max()))
            m[j] = new
        new_share = float(np.clip((counts * post).sum() / counts.sum(), 1e-9, 1 - 1e-9))
        delta, share = max(delta, abs(new_share - share)), new_share
        if delta < tolerance:
            break
    return m, share


#: Training sessions, cleanest first: the comparisons whose exact agreement selects
#: the pairs. Different people rarely share an SSN, while twins share a birth date
#: and juniors/seniors a name; each comparison takes its m from the first session
#: that could estimate it.
SESSIONS: tuple[tuple[str, ...], ...] = (
    ("ssn",),
    ("birth_date",),
    ("given_name", "family_name"),
)


def _session_m(
    levels: Patterns, comps: tuple[Comparison, ...], u: list[F64]
) -> tuple[list[F64], list[int]]:
    """``m`` of each comparison from the first session that estimated it."""
    names = [c.name for c in comps]
    start = _initial_m(comps)
    total = [np.zeros(len(c.levels)) for c in comps]
    seen = [0] * len(comps)
    radix = max(len(c.levels) for c in comps)
    for blocked in SESSIONS:
        columns = [names.index(b) for b in blocked if b in names]
        if len(columns) != len(blocked):
            continue
        exact = np.logical_and.reduce([levels[:, j] == 1 for j in columns])
        if exact.sum() < _MIN_SESSION_PAIRS:
            continue
        patterns, counts = distinct_patterns(levels[exact], radix)
        use = [j for j in range(len(comps)) if j not in columns]
        m, _ = _em_fixed_u(patterns, counts.astype(np.float64), start, u, use)
        for j in use:
            if not seen[j]:
                total[j] = m[j]
                seen[j] = 1
    return [total[j] if seen[j] else start[j] for j in range(len(comps))], seen


def train_model(
    table: EncodedTable,
    levels: Patterns,
    *,
    comparisons: tuple[Comparison, ...] = COMPARISONS,
    u_samples: int = 1_000_000,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> FellegiSunterModel:
    """Estimate a model from the candidate pairs' level matrix (no labels needed)."""
    n = len(table)
    u_random = estimate_u_random(table, comparisons, samples=min(u_samples, n * n), seed=seed)
    m, sessions = _session_m(levels, comparisons, u_random)
    patterns, counts = distinct_patterns(levels, max(len(c.levels) for c in comparisons))
    everything = list(range(len(comparisons)))
    _, share = _em_fixed_u(
        patterns, counts.astype(np.float64), m, u_random, everything, estimate_m=False
    )
    total_pairs = n * (n - 1) / 2
    tf_tokens = [c.tf_token for c in comparisons] + [t for c in comparisons for _, t in c.tf_levels]
    tf = {token: TermFrequencies.from_column(table.token(token)) for token in tf_tokens if token}
    lam = min(1.0, share * len(levels) / max(total_pairs, 1.0))
    model = FellegiSunterModel(
        table.schema_version, table.key_id, comparisons, m, u_random, u_random, share, lam, tf,
        sum(sessions),
    )  # fmt: skip
    model.fit_joint_cells(table, HOUSEHOLD_CELLS)
    if log is not None:
        log(f"trained: λ={lam:.3g}, match share among candidates {share:.3f}")
    return model
