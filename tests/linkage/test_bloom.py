import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from linkage.encode.bloom import FieldFilter, positional_grams, qgrams


def _dice(a: bytes, b: bytes) -> float:
    x = np.frombuffer(a, dtype=np.uint8)
    y = np.frombuffer(b, dtype=np.uint8)
    inter = int(np.unpackbits(x & y).sum())
    return 2 * inter / (int(np.unpackbits(x).sum()) + int(np.unpackbits(y).sum()))


def test_qgrams_are_padded_per_word() -> None:
    assert qgrams("ann", 2) == ["_a", "an", "nn", "n_"]
    assert qgrams("jo li", 2) == ["_j", "jo", "o_", "_l", "li", "i_"]
    assert qgrams("ab c", 1) == ["a", "b", "c"]


def test_positional_grams_keep_positions() -> None:
    assert positional_grams("1956") == ["0:1", "1:9", "2:5", "3:6"]


KEY_A, KEY_B = b"a" * 32, b"b" * 32


@given(st.text(alphabet="abcdefghij ", min_size=1, max_size=20))
def test_encoding_is_deterministic_per_key_and_differs_across_keys(text: str) -> None:
    grams = qgrams(text, 2)
    first = FieldFilter(KEY_A, 256, 10, balance=True).encode(grams)
    assert first == FieldFilter(KEY_A, 256, 10, balance=True).encode(grams)
    if grams:
        assert first != FieldFilter(KEY_B, 256, 10, balance=True).encode(grams)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=30))
def test_balanced_filters_hide_the_value_length(text: str) -> None:
    bits = 256
    encoded = FieldFilter(KEY_A, bits, 12, balance=True).encode(qgrams(text, 2))
    assert len(encoded) == 2 * bits // 8
    assert int(np.unpackbits(np.frombuffer(encoded, dtype=np.uint8)).sum()) == bits


def test_dice_orders_similar_before_dissimilar_names() -> None:
    enc = FieldFilter(KEY_A, 256, 12, balance=True)
    base = enc.encode(qgrams("katherine", 2))
    typo = enc.encode(qgrams("katherien", 2))
    variant = enc.encode(qgrams("kathryn", 2))
    other = enc.encode(qgrams("margaret", 2))
    assert _dice(base, base) == 1.0
    assert _dice(base, typo) > _dice(base, variant) > _dice(base, other)


def test_unbalanced_filter_sets_only_gram_bits() -> None:
    enc = FieldFilter(KEY_A, 128, 4, balance=False)
    assert enc.encode([]) == bytes(16)
    assert 0 < int(np.unpackbits(np.frombuffer(enc.encode(["ab"]), np.uint8)).sum()) <= 4
