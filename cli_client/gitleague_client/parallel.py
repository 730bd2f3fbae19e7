"""Commit records from several processes at once, in the order asked for.

:func:`iter_records` is what :func:`gitleague_client.extract.iter_commits` runs
with ``workers > 1``: the parent has already walked and ordered the commits;
the ordered shas are cut into contiguous chunks, each chunk is turned into
records by one worker process, and the records come back strictly in the
original order.

- Chunks are a few hundred commits: a chunk follows a line of development, so
  each commit diffs against trees and blobs its parent just put in the
  worker's cache; only the first commit of a chunk starts colder.
- Each worker opens the repository itself once (by path) and keeps its
  reader, with its object cache, from chunk to chunk.
- At most two chunks per worker are queued or running, so memory stays flat
  however long the history.
- Workers are started with ``spawn`` (never plain ``fork``: the client runs
  fetch threads, the server calls this from job processes), ignore Ctrl-C
  (the parent handles it), and are always stopped: at the end, when the
  caller stops early or fails, or when a worker fails (its exception is
  raised in the parent, type and message kept).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from dulwich.repo import Repo

from .extract import _Reader

#: Commits per chunk, at most. Each worker sees every other chunk (with two), so
#: the first commits of a chunk re-read the files the other worker's chunk changed;
#: fewer, longer chunks re-read less. 20,000-commit benchmark history, two workers,
#: CPU time of parent + workers, three alternating runs: chunks of 250, 17.3 s;
#: of 1,000, 16.6 s (one process alone: 14.5 s).
CHUNK_COMMITS = 1000
#: Commits per chunk, at least (the last chunk may be shorter). Chunks shrink
#: towards the end of the history (:func:`chunk_sizes`) so that both workers
#: finish together: with 1,000-commit chunks to the end, the one holding the
#: tip's huge edits ran 3 s alone on the benchmark history.
CHUNK_MIN_COMMITS = 16
#: Chunks queued or running per worker.
CHUNKS_PER_WORKER = 2
#: Object cache of each worker (one process alone: objects.CACHE_BYTES, 32 MiB).
#: Idle machine, two workers, peak of all processes at once: 32 MiB each, git.git
#: (72,866 commits) 316 MB, the generated 20,000 commits 236 MB; 24 MiB, 293 MB and
#: 225 MB, for 4.5% more CPU time on the generated history (19.3 s against 18.5 s,
#: medians of 3) and none measurable on git.git. 24 MiB keeps two workers, the
#: parent and multiprocessing's resource tracker under 300 MB on both.
WORKER_CACHE_BYTES = 24 * 1024 * 1024


def chunk_sizes(commits: int, workers: int) -> Iterator[int]:
    """Commits per chunk, in order, summing to ``commits`` (guided scheduling).

    Each chunk is a quarter of what remains per worker, between
    :data:`CHUNK_MIN_COMMITS` and :data:`CHUNK_COMMITS`: long chunks while
    much remains (few cold starts), short ones at the end, so that a costly
    stretch near the tip is shared out rather than left to one worker.
    """
    remaining = commits
    while remaining > 0:
        size = min(CHUNK_COMMITS, max(CHUNK_MIN_COMMITS, -(-remaining // (4 * workers))))
        size = min(size, remaining)
        yield size
        remaining -= size


def repo_path(repo: Any) -> str | None:
    """The path a worker can open ``repo`` by, or None (a repository in memory)."""
    path = getattr(repo, "path", None)
    if not isinstance(repo, Repo) or not isinstance(path, str):
        return None
    return path


def can_spawn() -> bool:
    """False inside a daemonic process (a ``multiprocessing`` worker), which may have no children."""
    return not multiprocessing.current_process().daemon


def iter_records(
    path: str,
    shas: Sequence[bytes],
    workers: int,
    cache_bytes: int | None = None,
    chunk: int | None = None,
    tip: bytes | None = None,
) -> Iterator[dict]:
    """The record of each sha of ``shas``, in that order, made by ``workers`` processes.

    ``path`` is the repository's path (each worker opens it); ``cache_bytes``
    is each worker's object cache (default :data:`WORKER_CACHE_BYTES`);
    ``chunk`` the commits per chunk (default :func:`chunk_sizes`); ``tip`` the
    commit whose ``.gitattributes`` apply (see ``extract.iter_commits``).
    """
    cache = cache_bytes or WORKER_CACHE_BYTES
    pieces = _pieces(
        shas, [chunk] * -(-len(shas) // chunk) if chunk else chunk_sizes(len(shas), workers)
    )
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(path, cache, tip, stop, os.getpid()),
    )
    pending: deque[Future[list[dict]]] = deque()
    completed = False
    try:
        for _ in range(CHUNKS_PER_WORKER * workers):
            piece = next(pieces, None)
            if piece is None:
                break
            pending.append(pool.submit(_extract, piece))
        while pending:
            records = pending.popleft().result()
            piece = next(pieces, None)
            if piece is not None:  # keep the workers busy while these are consumed
                pending.append(pool.submit(_extract, piece))
            yield from records
        completed = True
    finally:
        _stop(pool, pending, completed, stop)


def _pieces(shas: Sequence[bytes], sizes: Iterable[int]) -> Iterator[list[bytes]]:
    start = 0
    for size in sizes:
        yield list(shas[start : start + size])
        start += size


def _stop(
    pool: ProcessPoolExecutor,
    pending: deque[Future[list[dict]]],
    completed: bool,
    stop: Any,
) -> None:
    """Shut the pool down; when stopped early, make the running chunks end at once.

    Workers are never killed: one killed while it sends a chunk's records would
    leave the pool's manager thread waiting for the rest of the message forever.
    The ``stop`` event makes a running chunk return after its current commit.
    """
    if not completed:  # closed, an error, Ctrl-C: nothing running is wanted any more
        stop.set()
        for future in pending:
            future.cancel()
    pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------
# In the worker processes
# --------------------------------------------------------------------------

_opener: tuple[str, int, bytes | None] | None = None
_reader: _Reader | None = None
_stopping: Any = None


def _start_worker(path: str, cache_bytes: int, tip: bytes | None, stop: Any, parent: int) -> None:
    """Pool initializer. The repository is opened by the first chunk, so that a
    failure to open it is raised in the parent like any other error."""
    global _opener, _stopping
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _opener = (path, cache_bytes, tip)
    _stopping = stop
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: int) -> None:
    # A parent killed outright (SIGKILL, SIGTERM without a handler) runs no
    # cleanup, and a worker blocked on its queue would then live forever.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _extract(shas: list[bytes]) -> list[dict]:
    """The records of one chunk (run in a worker)."""
    global _reader
    reader = _reader
    if reader is None:
        assert _opener is not None
        path, cache_bytes, tip = _opener
        reader = _reader = _Reader(Repo(path), cache_bytes, attributes_of=tip)
    records = []
    for sha in shas:
        if _stopping.is_set():  # the parent stopped early: nobody wants the rest
            break
        records.append(reader.commit_dict(sha))
    return records
