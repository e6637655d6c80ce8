"""Atomic file writes: a reader (or a run killed midway) sees the old file or the complete new
one, never a half-written file. The new content goes to a hidden temporary file in the same
folder, which :func:`os.replace` then renames over the target (atomic on POSIX and Windows).

Spreadsheets are written only by :func:`atomic_to_csv` and :func:`atomic_to_xlsx`: no cell either
writes can be read as a formula (:mod:`qa_lib.core.safe_files`, issue 14), and every CSV is UTF-8
with a byte-order mark (:data:`CSV_ENCODING`, issue 18)."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import pandas as pd

from qa_lib.core.errors import QAError, problem
from qa_lib.core.safe_files import safe_frame, workbook


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


#: Every CSV the tool writes is UTF-8 with a byte-order mark: Excel on Windows reads a CSV without
#: one in the machine's ANSI code page, and shows "–", "▲" or "·" garbled (issue 18). Read our own
#: CSVs back with this encoding too (it drops the mark).
CSV_ENCODING = "utf-8-sig"


def atomic_to_csv(frame: pd.DataFrame, path: str | os.PathLike, **kwargs) -> Path:
    """``frame.to_csv(path, **kwargs)``, atomically, UTF-8 with a BOM (:data:`CSV_ENCODING`), with every
    text cell, column name and index label that could start a formula neutralised
    (:func:`qa_lib.core.safe_files.safe_frame`); numbers stay numbers."""
    if kwargs.setdefault("encoding", CSV_ENCODING) != CSV_ENCODING:
        raise problem(QAError, f"atomic_to_csv {Path(path).name}", received=f"encoding={kwargs['encoding']!r}",
                      expected=f"{CSV_ENCODING} (UTF-8 with a BOM, so Excel reads the file right)",
                      fix="leave encoding out")
    with atomic_path(path) as tmp:
        safe_frame(frame).to_csv(tmp, **kwargs)
    return Path(path)


def atomic_to_xlsx(sheets: Mapping[str, pd.DataFrame] | Iterable[tuple[str, pd.DataFrame, bool]],
                   path: str | os.PathLike) -> Path:
    """A workbook with a sheet per frame (:func:`qa_lib.core.safe_files.workbook`: numbers as numbers,
    text as text, never a formula), written atomically."""
    book = workbook(sheets)
    with atomic_path(path) as tmp:
        book.save(tmp)
    return Path(path)


def atomic_save(document, path: str | os.PathLike) -> Path:
    """``document.save(path)`` atomically, for a workbook or document built cell by cell with
    :func:`qa_lib.core.safe_files.put_cell` (the committee XLSX) or a Word document."""
    with atomic_path(path) as tmp:
        document.save(tmp)
    return Path(path)
