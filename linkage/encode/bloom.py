"""Keyed, hardened Bloom-filter encoding of one field.

A field value is split into q-grams (``"smith"`` → ``_s sm mi it th h_``) or, for
fixed-format digit strings, into positional characters (``"1956"`` →
``0:1 1:9 2:5 3:6``). Each gram sets ``k`` bits of an ``m``-bit filter at positions
drawn from HMAC-SHA256 under the field's own key (double hashing: ``h1 + i·h2 mod
m``). Without the key nobody can tell which bits a gram sets, which defeats the
dictionary attack on plain (unkeyed) Bloom filters.

Two values are then compared by the Dice coefficient of their filters,
``2·|A∧B| / (|A|+|B|)``, which tracks the Dice similarity of their gram sets.

**Balancing** (Schnell & Borgs' hardening) makes every filter carry the same number
of set bits, so that the filter no longer reveals the value's length nor lets an
attacker align frequent bit patterns with frequent names: the filter ``A`` is
concatenated with its complement and the ``2m`` bits are shuffled by a keyed
permutation. Both halves together always hold ``m`` set bits, and the Dice
coefficient of two balanced filters is ``1 − H(A,B)/m`` where ``H`` is the Hamming
distance of the unbalanced filters: comparisons still work, on a compressed scale.

Masks are cached per gram, and for the bulk path (:meth:`FieldFilter.encode_text`,
:meth:`FieldFilter.encode_positional`) also per word and per run of four positional
characters: a filter is the OR of its grams' masks, so OR-ing cached masks of whole
words (``main``, ``st``) or digit runs (``1956``) gives the same bits with a few
dictionary look-ups instead of one per gram.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import random
from collections.abc import Iterable

__all__ = ["FieldFilter", "positional_grams", "qgrams"]

#: Positional characters per cached run (dates are two runs, phone numbers three).
_RUN = 4
_WORD_CACHE_LIMIT = 1 << 17


def qgrams(text: str, q: int) -> list[str]:
    """Return the padded q-grams of ``text`` (words padded separately)."""
    if q == 1:
        return list(text.replace(" ", ""))
    grams: list[str] = []
    pad = "_" * (q - 1)
    for word in text.split():
        padded = f"{pad}{word}{pad}"
        grams.extend(padded[i : i + q] for i in range(len(padded) - q + 1))
    return grams


def positional_grams(digits: str) -> list[str]:
    """Return ``position:character`` grams for fixed-format values such as dates."""
    return [f"{i}:{ch}" for i, ch in enumerate(digits)]


class FieldFilter:
    """Builds the (optionally balanced) Bloom filter of one field.

    Args:
        key: The field's 32-byte filter key (derived from the linkage secret).
        bits: Filter length ``m`` before balancing (a multiple of 64).
        hashes: Bits set per gram ``k``.
        balance: Whether to apply balancing (output length ``2m``).
    """

    __slots__ = (
        "_all_complement",
        "_balance",
        "_bits",
        "_cache",
        "_hashes",
        "_key",
        "_perm",
        "_run_cache",
        "_word_cache",
    )

    def __init__(self, key: bytes, bits: int, hashes: int, *, balance: bool) -> None:
        self._key = key
        self._bits = bits
        self._hashes = hashes
        self._balance = balance
        self._cache: dict[str, tuple[int, int]] = {}
        self._word_cache: dict[str, tuple[int, int]] = {}
        self._run_cache: list[dict[str, tuple[int, int]]] = []
        self._perm: list[int] = list(range(2 * bits))
        if balance:
            # A keyed shuffle (the seed is secret-derived, so the permutation is too);
            # random.Random is fine here because its output is never exposed directly.
            seed = int.from_bytes(hmac.digest(key, b"balance-permutation", "sha256"), "big")
            random.Random(seed).shuffle(self._perm)  # noqa: S311
        self._all_complement = self._place(range(bits), offset=bits) if balance else 0

    @property
    def n_bytes(self) -> int:
        """Length of the encoded filter in bytes."""
        return (2 * self._bits if self._balance else self._bits) // 8

    def encode(self, grams: Iterable[str]) -> bytes:
        """Return the filter of a set of grams as little-endian bytes."""
        return self._finish(*self._union(grams))

    def encode_text(self, text: str, q: int) -> str:
        """Return the base64 filter of ``qgrams(text, q)``, with masks cached per word.

        Equals ``base64(encode(qgrams(text, q)))``: q-grams never span two words, so
        the filter of a text is the OR of the filters of its words.
        """
        if q == 1:
            return _b64(self.encode(qgrams(text, q)))
        words = self._word_cache
        set_bits = complement = 0
        for word in text.split():
            masks = words.get(word)
            if masks is None:
                if len(words) >= _WORD_CACHE_LIMIT:  # house numbers, typos: keep it bounded
                    words.clear()
                masks = words[word] = self._union(qgrams(word, q))
            set_bits |= masks[0]
            complement |= masks[1]
        return _b64(self._finish(set_bits, complement))

    def encode_positional(self, digits: str) -> str:
        """Return the base64 filter of ``positional_grams(digits)``, cached per 4-run.

        Equals ``base64(encode(positional_grams(digits)))``.
        """
        runs = self._run_cache
        while len(runs) * _RUN < len(digits):
            runs.append({})
        set_bits = complement = 0
        for index in range(0, len(digits), _RUN):
            run = digits[index : index + _RUN]
            cache = runs[index // _RUN]
            masks = cache.get(run)
            if masks is None:
                grams = [f"{index + i}:{ch}" for i, ch in enumerate(run)]
                masks = cache[run] = self._union(grams)
            set_bits |= masks[0]
            complement |= masks[1]
        return _b64(self._finish(set_bits, complement))

    def _union(self, grams: Iterable[str]) -> tuple[int, int]:
        """OR of the grams' masks: set bits and (balanced filters) their complement bits."""
        set_bits = 0
        complement = 0
        cache = self._cache
        for gram in grams:
            masks = cache.get(gram)
            if masks is None:
                masks = self._masks(gram)
                cache[gram] = masks
            set_bits |= masks[0]
            complement |= masks[1]
        return set_bits, complement

    def _finish(self, set_bits: int, complement: int) -> bytes:
        if self._balance:
            set_bits |= self._all_complement & ~complement
        return set_bits.to_bytes(self.n_bytes, "little")

    def _masks(self, gram: str) -> tuple[int, int]:
        digest = hmac.digest(self._key, gram.encode(), hashlib.sha256)
        h1 = int.from_bytes(digest[:8], "little")
        h2 = int.from_bytes(digest[8:16], "little") | 1
        positions = {(h1 + i * h2) % self._bits for i in range(self._hashes)}
        if not self._balance:
            return self._place(positions, offset=0), 0
        return self._place(positions, offset=0), self._place(positions, offset=self._bits)

    def _place(self, positions: Iterable[int], *, offset: int) -> int:
        mask = 0
        for pos in positions:
            mask |= 1 << self._perm[pos + offset]
        return mask


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")
