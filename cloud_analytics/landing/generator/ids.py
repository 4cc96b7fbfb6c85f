"""Ids that look random yet are unique at any scale, without remembering any of them."""

from __future__ import annotations

import math
import random

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_U64 = (1 << 64) - 1


class Ids:
    """``prefix_`` + base-36 image of a per-prefix counter under a keyed Feistel permutation.

    A permutation of distinct counters gives distinct ids at any scale without remembering
    them; cycle-walking keeps the image below 36**length.

    One instance serves the whole run: its counters carry over from block to block, which is
    what keeps ids unique across blocks. The id a row gets therefore depends on how many ids
    of its prefix were drawn before it, i.e. on the order in which rows are built. The keys
    come from their own random stream, so drawing ids never touches a block's ``rng``."""

    def __init__(self, seed: int):
        self._seed = seed
        self._state: dict[str, list] = {}

    def __call__(self, prefix: str, length: int) -> str:
        if prefix not in self._state:
            keys = random.Random(f"cloud-analytics-ids/{self._seed}/{prefix}")
            # Half the bits of a 36**length space on each side of the Feistel network.
            half = round(length * math.log2(36) / 2)
            self._state[prefix] = [0, [keys.getrandbits(64) for _ in range(4)], half]
        state = self._state[prefix]
        counter, keys, half = state
        state[0] += 1
        space = 36 ** length
        if counter >= min(space, 1 << (2 * half)):
            raise OverflowError(f"too many {prefix} ids")
        x = _feistel(counter, keys, half)
        # Cycle-walking: the permutation is over 2**(2*half) values, which may exceed
        # 36**length; re-encrypting until the value fits stays a bijection on [0, space).
        while x >= space:
            x = _feistel(x, keys, half)
        chars = []
        for _ in range(length):
            x, digit = divmod(x, 36)
            chars.append(_ALPHABET[digit])
        return f"{prefix}_{''.join(chars)}"


def _feistel(x: int, keys: list[int], half: int) -> int:
    """Four Feistel rounds over ``2 * half`` bits (a bijection whatever the round function)."""
    mask = (1 << half) - 1
    left, right = x >> half, x & mask
    for key in keys:
        # Round function: a splitmix64-style mix of the right half with the round key.
        mixed = ((right ^ key) * 0x9E3779B97F4A7C15) & _U64
        mixed ^= mixed >> 29
        mixed = (mixed * 0xBF58476D1CE4E5B9) & _U64
        mixed ^= mixed >> 32
        left, right = right, left ^ (mixed & mask)
    return (left << half) | right
