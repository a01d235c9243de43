from pathlib import Path

import numpy as np
import pytest

from linkage.errors import ModelError
from linkage.match.model import FellegiSunterModel
from linkage.match.training import _em_fixed_u, _normalise, distinct_patterns

from .helpers import table_of


def test_em_with_fixed_u_recovers_m_and_match_share() -> None:
    rng = np.random.default_rng(7)
    true_m = [
        np.array([1, 0.85, 0.10, 0.05]),
        np.array([1, 0.9, 0.1]),
        np.array([1, 0.7, 0.2, 0.1]),
    ]
    true_u = [
        np.array([1, 0.02, 0.08, 0.90]),
        np.array([1, 0.05, 0.95]),
        np.array([1, 0.1, 0.2, 0.7]),
    ]
    n, share = 60_000, 0.2
    is_match = rng.random(n) < share
    levels = np.empty((n, 3), dtype=np.int8)
    for j in range(3):
        for cls, probs in ((True, true_m[j]), (False, true_u[j])):
            rows = is_match == cls
            levels[rows, j] = rng.choice(np.arange(1, len(probs)), size=rows.sum(), p=probs[1:])
    patterns, counts = distinct_patterns(levels, 4)
    start = [_normalise(np.array([0, 0.5, 0.3, 0.2])), _normalise(np.array([0, 0.6, 0.4])),
             _normalise(np.array([0, 0.5, 0.3, 0.2]))]  # fmt: skip
    m, estimated_share = _em_fixed_u(patterns, counts.astype(float), start, true_u, [0, 1, 2])
    assert estimated_share == pytest.approx(share, abs=0.02)
    for j in range(3):
        assert np.allclose(m[j][1:], true_m[j][1:], atol=0.03)


def test_null_level_carries_no_evidence() -> None:
    assert _normalise(np.array([5.0, 1.0, 3.0]))[0] == 1.0


def _trained_model() -> FellegiSunterModel:
    from linkage.match.pipeline import link_table

    rows = [
        {"given_name": g, "family_name": f, "birth_date": d}
        for g, f, d in [
            ("Ann", "Lee", "1980-03-07"), ("Ann", "Lee", "1980-03-07"),
            ("Anne", "Lee", "1980-03-07"), ("Bob", "Okafor", "1970-01-02"),
            ("Robert", "Okafor", "1970-01-02"), ("Cara", "Diaz", "1990-05-05"),
            ("Dan", "Wu", "1965-06-06"), ("Eve", "Stone", "1999-09-09"),
        ]
    ]  # fmt: skip
    return link_table(table_of(rows)).model


def test_saved_model_loads_with_identical_weights(tmp_path: Path) -> None:
    model = _trained_model()
    model.save(tmp_path / "m.json")
    loaded = FellegiSunterModel.load(tmp_path / "m.json")
    assert loaded.probability_two_random_records_match == model.probability_two_random_records_match
    for a, b in zip(model.level_weights(), loaded.level_weights(), strict=True):
        assert np.allclose(a, b)


@pytest.mark.parametrize("content", [b"", b"{}", b'{"format": "other"}', b"[1,2]", b"\xff"])
def test_malformed_model_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "m.json"
    path.write_bytes(content)
    with pytest.raises(ModelError):
        FellegiSunterModel.load(path)


def test_model_refuses_encodings_of_another_key() -> None:
    model = _trained_model()
    table = table_of([{"given_name": "Ann"}])
    table.key_id = "k-0000000000000000"
    with pytest.raises(ModelError, match="trained on"):
        model.check_compatible(table)


def test_distinct_patterns_round_trip_every_level_index() -> None:
    from linkage.match.comparisons import COMPARISONS

    radix = max(len(c.levels) for c in COMPARISONS)
    rng = np.random.default_rng(3)
    levels = np.stack(
        [rng.integers(0, len(c.levels), size=500) for c in COMPARISONS], axis=1
    ).astype(np.int8)
    levels[0] = [len(c.levels) - 1 for c in COMPARISONS]  # every else level, the largest index
    patterns, counts = distinct_patterns(levels, radix)
    assert counts.sum() == len(levels)
    assert {tuple(r) for r in patterns.tolist()} == {tuple(r) for r in levels.tolist()}
