"""The pack index lookup on hand-made version 2 indexes.

A real pack small enough for a test puts a dozen names in each fan-out bucket,
so the lookup's bisection (buckets over 48 names) and the large-offset table
(packs over 2 GiB) never run there. These indexes are written byte for byte
as git's ``pack-format.txt`` describes them, with names chosen to crowd one
bucket, to differ only in their last byte, and to make a sha appear across
two neighbouring names.
"""

from __future__ import annotations

import mmap
import random
import struct
from itertools import accumulate
from pathlib import Path

import pytest
from gitleague_client import objects
from gitleague_client.objects import _Pack

BIG = 1 << 31  # offsets from here on live in the 8-byte table


def write_index(path: Path, entries: dict[bytes, int]) -> None:
    """A version 2 .idx of ``{name: offset}`` (CRCs zero, checksums zero)."""
    names = sorted(entries)
    buckets = [0] * 256
    for name in names:
        buckets[name[0]] += 1
    small, large = [], []
    for name in names:
        offset = entries[name]
        if offset >= BIG:
            small.append(0x80000000 | len(large))
            large.append(offset)
        else:
            small.append(offset)
    path.write_bytes(
        b"\377tOc"
        + struct.pack(">I", 2)
        + struct.pack(">256I", *accumulate(buckets))
        + b"".join(names)
        + bytes(4 * len(names))
        + struct.pack(f">{len(small)}I", *small)
        + struct.pack(f">{len(large)}Q", *large)
        + bytes(40)
    )


@pytest.fixture
def open_index(tmp_path: Path):
    opened: list = []

    def open_(entries: dict[bytes, int]) -> _Pack:
        path = tmp_path / f"pack-{len(opened)}.idx"
        write_index(path, entries)
        with path.open("rb") as f:
            idx = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        opened.append(idx)
        return _Pack(-1, idx, 20, 1 << 40)

    yield open_
    for idx in opened:
        idx.close()


def test_crowded_buckets_are_bisected_to_every_name_and_nothing_else(open_index) -> None:
    rng = random.Random(11)
    entries: dict[bytes, int] = {}
    # 700 names in bucket 0x41, 60 in 0x00, 49 in 0xff (one over the scan's 48),
    # pairs differing only in their last byte, and a few names elsewhere.
    for first, count in ((0x41, 700), (0x00, 60), (0xFF, 49), (0x10, 1), (0x80, 3)):
        while sum(name[0] == first for name in entries) < count:
            name = bytes([first]) + rng.randbytes(19)
            entries[name] = rng.randrange(12, BIG)
            if rng.random() < 0.3:
                twin = name[:-1] + bytes([name[-1] ^ 1])
                entries[twin] = rng.randrange(12, BIG)
    pack = open_index(entries)
    for name, offset in entries.items():
        assert pack.find(name) == offset
    for name in entries:
        for absent in (name[:-1] + bytes([name[-1] ^ 2]), name[:10] + bytes(10), name[:1] * 20):
            if absent not in entries:
                assert pack.find(absent) is None
    assert pack.find(b"\x42" * 20) is None  # an empty bucket


def test_a_sha_spanning_two_names_is_not_a_match(open_index) -> None:
    a = b"\x01" + bytes(9) + b"\x01" + b"\x05" * 9
    b = b"\x01" + b"\x06" * 19
    spanning = a[10:] + b[:10]  # sorts between them, absent, yet in the index's bytes
    filler = {b"\x01" + bytes([n]) * 19: n + 100 for n in range(7, 60)}
    pack = open_index({a: 12, b: 34, **filler})
    assert spanning not in filler
    assert pack.find(spanning) is None
    # Present after a misaligned match: found at its own place.
    pack = open_index({a: 12, b: 34, spanning: 56, **filler})
    assert pack.find(spanning) == 56
    # A misaligned match one byte before the name itself (its bytes are all alike).
    ones, before = b"\x01" * 20, b"\x01" + bytes(18) + b"\x01"
    pack = open_index({before: 12, ones: 34, **filler})
    assert pack.find(ones) == 34


def test_offsets_past_2_gib_come_from_the_large_table(open_index) -> None:
    entries = {bytes([n]) * 20: (BIG + 7 * n if n % 2 else 100 + n) for n in range(256)}
    entries[b"\x07" * 19 + b"\x08"] = (1 << 40) - 5
    pack = open_index(entries)
    for name, offset in entries.items():
        assert pack.find(name) == offset
    assert pack.count == 257


def test_sorted_offsets_are_every_entry_in_pack_order_then_the_end(open_index, monkeypatch) -> None:
    """The entry lengths come from these: a wrong list still reads right (zlib ignores
    what follows a stream), only far more slowly, so it is checked here."""
    monkeypatch.setattr(objects, "_SORT_SLICE", 7)  # several slices merged
    rng = random.Random(5)
    entries = {
        rng.randbytes(20): rng.randrange(12, BIG) if n % 3 else rng.randrange(BIG, 1 << 39)
        for n in range(100)
    }
    pack = open_index(entries)
    assert list(pack._sorted_offsets()) == [*sorted(entries.values()), pack.data_end]
    pack.starts = pack._sorted_offsets()
    for offset in sorted(entries.values())[:-1]:
        following = min(o for o in entries.values() if o > offset)
        assert pack.length_at(offset) == following - offset
