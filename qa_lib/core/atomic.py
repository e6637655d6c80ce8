"""Atomic file writes: a reader (or a run killed midway) sees the old file or the complete new
one, never a half-written file. The new content goes to a hidden temporary file in the same
folder, which :func:`os.replace` then renames over the target (atomic on POSIX and Windows)."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(path: str | os.PathLike, *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed.

    The finished file gets permission bits ``mode`` (``0o600`` for private working files such as
    the batch data cache; the temporary file is 0600 from its creation, so nobody else can read it
    while it is written).

    Temporary names are ``.<name>.<random>.tmp``; :func:`qa_lib.running.batch.clean_stale` removes any
    left by a killed process.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically, with permission bits ``mode``."""
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(data)


def atomic_to_csv(frame, path: str | os.PathLike, **kwargs) -> Path:
    """``frame.to_csv(path, **kwargs)``, atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **kwargs)
    return Path(path)
