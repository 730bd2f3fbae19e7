"""Raw objects straight from a repository's pack files, for the extraction.

:class:`PackStore` answers ``get_raw(binary_sha) -> (type_num, data)`` like
dulwich's object store, several times faster per object: dulwich's ``get_raw``
is general (it rechecks that pack files still exist, keeps delta results as
chunk lists, locks its caches). Anything this reader does not handle (loose
objects, alternates, v1 indexes, non-disk stores) goes to dulwich.
"""

from __future__ import annotations

import binascii
import heapq
import mmap
import os
import struct
import zlib
from array import array
from bisect import bisect_right
from collections import OrderedDict

from dulwich.pack import apply_delta

# Objects kept once read: delta bases, and the blobs and trees the next
# commit diffs against (git's core.deltaBaseCacheLimit is 96 MiB). On the
# benchmark history 64 MiB inflated a third as many entries again as 32 MiB
# did (3-7% less CPU time), but 32 MiB leaves room under 150 MB for the
# transient tables of a huge diff (~35 MB for a 50,000 -> 87,000-line file)
# at 80,000 commits: 40 MiB peaked at 150 MB there.
CACHE_BYTES = 32 * 1024 * 1024
# Larger objects are not cached: one would push out hundreds of small ones.
_CACHE_MAX_ONE = 4 * 1024 * 1024
_OFS_DELTA, _REF_DELTA = 6, 7
_IDX_V2 = b"\377tOc\0\0\0\2"
_NO_LENGTH = -1  # an entry's length not known yet
_SORT_SLICE = 1 << 16


class _Pack:
    """One pack file: its descriptor and its index, searched in place.

    Lookups search the index file's sorted names in place (a dict of every
    sha was ~2x faster, but cost ~130 bytes an object: 30 MB on a
    30,000-commit history). Once a run has read more than an eighth of the
    objects, the sorted entry offsets are kept (8 bytes an object), so each
    entry's length is known: it is then read in one call and inflated in one
    shot. A short run (an incremental sync) never pays for sorting them.
    """

    def __init__(self, fd: int, idx: mmap.mmap, oid_length: int, pack_size: int) -> None:
        self.fd = fd
        self.idx = idx
        self.width = oid_length
        # Objects before each first byte, then the total: (0, fan-out table...).
        self.fanout = (0, *struct.unpack(">256I", idx[8 : 8 + 256 * 4]))
        self.count = self.fanout[256]
        self.data_end = pack_size - oid_length  # the pack ends with a checksum
        self.starts: array | None = None  # entry offsets in pack order, then data_end
        self.lookups = 0

    def find(self, sha: bytes) -> int | None:
        """Offset of an object's entry, None if it is not in this pack."""
        idx, width = self.idx, self.width
        first = sha[0]
        lo, hi = self.fanout[first], self.fanout[first + 1]
        names = 8 + 256 * 4
        # Bisect down to a few dozen names, then let bytes.find scan them.
        while hi - lo > 48:
            mid = (lo + hi) // 2
            at = names + mid * width
            if idx[at : at + width] <= sha:
                lo = mid
            else:
                hi = mid
        end = names + hi * width
        at = idx.find(sha, names + lo * width, end)
        while at >= 0 and (at - names) % width:  # a match across two names
            at = idx.find(sha, at + 1, end)
        if at < 0:
            return None
        at = names + self.count * (width + 4) + (at - names) // width * 4
        return self._offset(int.from_bytes(idx[at : at + 4], "big"))

    def length_at(self, offset: int) -> int:
        """Length of the entry at ``offset``, or ``_NO_LENGTH`` early in a run."""
        starts = self.starts
        if starts is None:
            self.lookups += 1
            if self.lookups <= self.count // 8 + 1000:
                return _NO_LENGTH
            starts = self.starts = self._sorted_offsets()
        return starts[bisect_right(starts, offset)] - offset

    def _offset(self, small: int) -> int:
        if small & 0x80000000:  # a pack over 2 GiB: the offset is in the 8-byte table
            at = 8 + 256 * 4 + self.count * (self.width + 8) + (small & 0x7FFFFFFF) * 8
            return int.from_bytes(self.idx[at : at + 8], "big")
        return small

    def _sorted_offsets(self) -> array:
        """Entry offsets in pack order, then the end of the data.

        Sorted in slices merged into the array, so that no list of every
        offset exists at once (a list of Python ints costs 36 bytes an
        object: 21 MB for a pack of 600,000 objects).
        """
        count = self.count
        at = 8 + 256 * 4 + count * (self.width + 4)
        runs = []
        for lo in range(0, count, _SORT_SLICE):
            hi = min(count, lo + _SORT_SLICE)
            small = struct.unpack(f">{hi - lo}I", self.idx[at + 4 * lo : at + 4 * hi])
            if max(small) & 0x80000000:
                small = tuple(map(self._offset, small))
            runs.append(array("Q", sorted(small)))
        offsets = array("Q", heapq.merge(*runs) if len(runs) > 1 else runs[0] if runs else ())
        offsets.append(self.data_end)
        return offsets


class PackStore:
    """Reads objects straight from the repository's pack files.

    One LRU cache of resolved objects (bounded in bytes) serves both delta
    chains and the extraction's re-reads. Pack data is read with positioned
    reads, not mmap, so the pack never counts in the process's resident
    memory.
    """

    def __init__(self, store, oid_length: int, cache_bytes: int = CACHE_BYTES) -> None:
        self.fallback = store.get_raw
        self.oid_length = oid_length
        self.packs: list[_Pack] = []
        self.cache: OrderedDict[int, tuple[int, bytes]] = OrderedDict()
        self.cache_bytes = 0
        self.cache_limit = cache_bytes
        path = getattr(store, "path", None)
        pack_dir = os.path.join(path, "pack") if isinstance(path, str) else ""
        if pack_dir and os.path.isdir(pack_dir):
            for name in sorted(os.listdir(pack_dir)):
                base = os.path.join(pack_dir, name[:-4])
                if name.endswith(".idx") and os.path.exists(base + ".pack"):
                    self._open(base)

    def _open(self, base: str) -> None:
        try:
            with open(base + ".idx", "rb") as f:
                # Mapped, not read: only the pages lookups touch are resident, and
                # they are the page cache's, shared by every process reading the
                # pack (git.git's index is 24 MB, its CRC table never read).
                idx = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            fd = os.open(base + ".pack", os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except (OSError, ValueError):
            return  # unreadable or empty: dulwich will report what is wrong
        if idx[:8] != _IDX_V2:
            os.close(fd)
            idx.close()
            return  # a version 1 index: leave it to dulwich
        self.packs.append(_Pack(fd, idx, self.oid_length, os.fstat(fd).st_size))

    def close(self) -> None:
        """Close the pack files."""
        for pack in self.packs:
            os.close(pack.fd)
            pack.idx.close()
        self.packs = []
        self.cache.clear()

    def get_raw(self, sha: bytes, keep: bool = True) -> tuple[int, bytes]:
        """``(type_num, data)`` of an object given its binary sha.

        ``keep=False`` leaves the object itself out of the cache (its delta
        bases are still kept): for objects read once, such as commits walked.
        """
        for n, pack in enumerate(self.packs):
            offset = pack.find(sha)
            if offset is not None:
                key = n << 48 | offset
                cached = self.cache.get(key)
                if cached is not None:
                    self.cache.move_to_end(key)
                    return cached
                return self._read(n, offset, keep)
        return self.fallback(binascii.hexlify(sha))

    def _read(self, n: int, offset: int, keep: bool = True) -> tuple[int, bytes]:
        """Resolve the object at ``offset`` of pack ``n``, applying deltas."""
        chain: list[tuple[int, bytes]] = []  # (cache key, delta) from the object down
        cache = self.cache
        top = n << 48 | offset
        while True:
            kind, data, base = self._entry(n, offset, self.packs[n].length_at(offset))
            if base is None:
                if keep or chain:
                    self._remember(n << 48 | offset, kind, data)
                break
            chain.append((n << 48 | offset, data))
            if isinstance(base, bytes):
                # A base outside these packs (thin pack, loose object).
                kind, data = self.fallback(binascii.hexlify(base))
                break
            n, offset = base
            cached = cache.get(n << 48 | offset)
            if cached is not None:
                cache.move_to_end(n << 48 | offset)
                kind, data = cached
                break
        for key, delta in reversed(chain):
            data = b"".join(apply_delta(data, delta))
            if keep or key != top:
                self._remember(key, kind, data)
        return kind, data

    def make_room(self, size: int) -> None:
        """Evict the least recently used objects until ``size`` bytes are free.

        For transient memory that would otherwise come on top of a full cache
        (the tables of a huge line diff).
        """
        limit = max(0, self.cache_limit - size)
        while self.cache_bytes > limit:
            _, (_, old) = self.cache.popitem(last=False)
            self.cache_bytes -= len(old)

    def _remember(self, key: int, kind: int, data: bytes) -> None:
        size = len(data)
        if size > _CACHE_MAX_ONE:
            return
        self.cache[key] = (kind, data)
        self.cache_bytes += size
        while self.cache_bytes > self.cache_limit:
            _, (_, old) = self.cache.popitem(last=False)
            self.cache_bytes -= len(old)

    def _entry(
        self, n: int, offset: int, length: int
    ) -> tuple[int, bytes, tuple[int, int] | bytes | None]:
        """Type, inflated data and delta base (pack, offset) of one pack entry.

        ``length`` is the entry's length, or ``_NO_LENGTH`` when unknown: then
        the entry is read in pieces until the deflate stream ends.
        """
        fd = self.packs[n].fd
        known = length != _NO_LENGTH
        buf = _pread(fd, length, offset) if known else _pread_upto(fd, 4096, offset)
        c = buf[0]
        pos = 1
        kind, size, shift = (c >> 4) & 7, c & 15, 4
        while c & 0x80:
            c = buf[pos]
            pos += 1
            size |= (c & 0x7F) << shift
            shift += 7
        base: tuple[int, int] | bytes | None = None
        if kind == _OFS_DELTA:
            c = buf[pos]
            pos += 1
            back = c & 0x7F
            while c & 0x80:
                c = buf[pos]
                pos += 1
                back = ((back + 1) << 7) | (c & 0x7F)
            base = (n, offset - back)
        elif kind == _REF_DELTA:
            ref = buf[pos : pos + self.oid_length]
            pos += self.oid_length
            base = self._locate(ref) or ref
        try:
            if known:
                data = zlib.decompress(memoryview(buf)[pos:], bufsize=max(size, 1))
            else:
                data = _inflate_stream(fd, buf, pos, offset, size)
        except zlib.error as e:
            raise ValueError(f"corrupt pack entry at offset {offset}: {e}") from e
        if len(data) != size:
            raise ValueError(f"pack entry at offset {offset}: {len(data)} bytes, expected {size}")
        return kind, data, base

    def _locate(self, sha: bytes) -> tuple[int, int] | None:
        for n, pack in enumerate(self.packs):
            offset = pack.find(sha)
            if offset is not None:
                return n, offset
        return None


def _inflate_stream(fd: int, buf: bytes, pos: int, offset: int, size: int) -> bytes:
    """Inflate an entry of unknown length that starts at ``buf[pos:]``."""
    # Deflate never grows data by more than a few bytes per 64 KiB block.
    need = pos + size + size // 1000 + 64
    if need > len(buf) == 4096:
        buf += _pread_upto(fd, need - len(buf), offset + len(buf))
    inflater = zlib.decompressobj()
    data = inflater.decompress(memoryview(buf)[pos:])
    end = offset + len(buf)
    while not inflater.eof:
        more = _pread_upto(fd, 65536, end)
        if not more:
            raise ValueError(f"truncated pack entry at offset {offset}")
        data += inflater.decompress(more)
        end += len(more)
    return data


def _pread_upto(fd: int, length: int, offset: int) -> bytes:
    """Up to ``length`` bytes at ``offset`` (fewer at the end of the file)."""
    if _HAS_PREAD:
        return os.pread(fd, length, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows has no pread
    return os.read(fd, length)


def _pread(fd: int, length: int, offset: int) -> bytes:
    """Exactly ``length`` bytes at ``offset``."""
    data = _pread_upto(fd, length, offset)
    while len(data) < length:
        more = _pread_upto(fd, length - len(data), offset + len(data))
        if not more:
            raise ValueError(f"truncated pack at offset {offset}")
        data += more
    return data


_HAS_PREAD = hasattr(os, "pread")
