"""Pseudonymising identifiers at load: a keyed hash, so joins work and no real id reaches a report.

Case, child, practitioner, auditor and moderator ids (``PSEUDONYMISED_COLUMNS``) are replaced as
soon as a table is read, before validation, by ``PREFIX-`` + the first 12 hex digits of
HMAC-SHA256(key, family + US + value). The same id gets the same pseudonym everywhere in a run
(an auditor's ``auditor_id`` in audits and ``rater_id`` in ratings stay joinable, because they
share the ``rater`` family); without the key a pseudonym cannot be turned back into the id, and
the same id in two families (a case number equal to a staff number) gets unrelated pseudonyms.

Where the key comes from (:func:`key_source`), first match wins:

1. the environment variable ``QA_PSEUDONYM_KEY`` (at least 16 characters);
2. the params key ``pseudonym_key_file`` (a file outside version control holding at least 16
   characters; a file tracked by git is refused, because the key must never come from the repo);
3. otherwise a random 256-bit key generated once per process and held only in memory: the
   pseudonyms are then stable within the run and differ from run to run. Provenance says so.

The key itself is never written anywhere: provenance records only where it came from.
Record keys that name no person (``audit_id``, ``allocation_id``, ``response_id``,
``action_id``) are not pseudonymised; like every column in ``io.IDENTIFIER_COLUMNS`` they are
refused by :meth:`qa_lib.present.report.Report.table`.
"""

from __future__ import annotations

import re

import hashlib
import hmac
import os
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from qa_lib.core.errors import ParamsError, QAError, problem

ENV_VAR = "QA_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16
DIGITS = 12  # 48 bits: a collision among 10,000 ids has probability about 2e-7, and is detected

#: column -> (family, prefix). Columns of one family share pseudonyms (they hold the same people).
PSEUDONYMISED_COLUMNS: dict[str, tuple[str, str]] = {
    "case_id": ("case", "CASE"),
    "child_id": ("child", "CHILD"),
    "practitioner_id": ("practitioner", "PRAC"),
    "auditor_id": ("rater", "AUD"),
    "rater_id": ("rater", "AUD"),
    "moderator_id": ("rater", "AUD"),
}

_RUN_KEY: bytes | None = None


@dataclass(frozen=True)
class PseudonymKey:
    """A key and a description of where it came from (the description goes in provenance)."""

    key: bytes
    source: str

    def __repr__(self) -> str:  # never show the key, even in a traceback or a notebook
        return f"PseudonymKey(source={self.source!r})"


def keyed_digest(key: bytes, message: bytes) -> str:
    """HMAC-SHA256 of ``message`` under ``key``, as 64 hex digits (RFC 2104 / RFC 4231)."""
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _run_key() -> bytes:
    global _RUN_KEY
    if _RUN_KEY is None:
        _RUN_KEY = secrets.token_bytes(32)
    return _RUN_KEY


def _tracked_by_git(path: Path) -> bool:
    try:
        out = subprocess.run(["git", "ls-files", "--error-unmatch", path.name], cwd=path.parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0


def key_source(params) -> str:
    """Where the pseudonym key of a run comes from, in words (no key material)."""
    if os.environ.get(ENV_VAR):
        return f"keyed hash (HMAC-SHA256) with the key from environment variable {ENV_VAR}"
    key_file = params.pseudonym_key_file
    if key_file:
        return f"keyed hash (HMAC-SHA256) with the key from file {Path(key_file).name} (named in the params)"
    return ("keyed hash (HMAC-SHA256) with a random key generated for this run and held only in memory: "
            "pseudonyms are stable within the run and differ between runs")


def resolve_key(params) -> PseudonymKey:
    """The key for ``params``: environment variable, then ``pseudonym_key_file``, then a random run key.

    Raises
    ------
    ParamsError
        The key is shorter than 16 characters, the key file is missing or unreadable, or the
        key file is tracked by git.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        if len(env.strip()) < MIN_KEY_LENGTH:
            raise problem(ParamsError, f"environment variable {ENV_VAR}", received="a key that short",
                          expected=f"a secret of at least {MIN_KEY_LENGTH} characters",
                          fix="set a longer random key, e.g. the output of: python -c 'import secrets; print(secrets.token_hex(32))'")
        return PseudonymKey(env.strip().encode("utf-8"), key_source(params))
    key_file = params.pseudonym_key_file
    if key_file:
        base = params.base_dir
        path = (Path(base) / key_file).resolve()
        where = f"{params.path.name} pseudonym_key_file"
        if not path.is_file():
            raise problem(ParamsError, where, received=f"{path.name} (no such file)",
                          expected="the path of a file holding the pseudonym key, relative to the params file",
                          fix="create the file outside the repository, or remove the key to use a per-run key")
        if _tracked_by_git(path):
            raise problem(ParamsError, where, received=f"{path.name}, a file tracked by git",
                          expected="a key file kept outside version control",
                          fix="move the key out of the repository (and rotate it: it has been committed)")
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            raise problem(ParamsError, where, received=f"{path.name} (unreadable)",
                          expected="a UTF-8 text file holding the key") from None
        if len(text) < MIN_KEY_LENGTH:
            raise problem(ParamsError, where, received=f"{path.name}, a key that short",
                          expected=f"a secret of at least {MIN_KEY_LENGTH} characters")
        return PseudonymKey(text.encode("utf-8"), key_source(params))
    return PseudonymKey(_run_key(), key_source(params))


def pseudonymise_series(values: pd.Series, *, family: str, prefix: str, key: PseudonymKey) -> pd.Series:
    """Replace every non-blank value by ``prefix-<12 hex digits>``; blanks stay blank.

    Raises
    ------
    QAError
        Two different ids received the same pseudonym (a truncation collision): the run stops
        rather than merge two people.
    """
    s = values.astype("string")
    # once per distinct id (a million ratings hold a few hundred raters): factorise, hash the uniques,
    # spread the pseudonyms back by integer codes (issue 15: no per-row Python work)
    codes, uniques = pd.factorize(s)
    if not len(uniques):
        return s
    u = pd.Series(uniques, dtype="string")
    present = (u.str.strip() != "").fillna(False).to_numpy(dtype=bool)
    if not present.any():
        return s
    base = hmac.new(key.key, digestmod=hashlib.sha256)  # HMAC-SHA256 as keyed_digest, its key schedule done once

    def digest(v: str) -> str:
        h = base.copy()
        h.update(f"{family}\x1f{v}".encode("utf-8"))
        return f"{prefix}-" + h.hexdigest()[:DIGITS]
    mapped = np.array([digest(v) if keep else v for v, keep in zip(u.tolist(), present)] + [None], dtype=object)
    if len(set(mapped[:-1][present])) != int(present.sum()):
        raise QAError(f"pseudonymising {family} ids: two different ids received the same pseudonym "
                      f"(expected none; {int(present.sum())} ids). Fix: run again with another key")
    out = pd.Series(pd.array(mapped[np.where(codes >= 0, codes, len(mapped) - 1)], dtype="string"), index=s.index)
    return out


def pseudonymise_frame(frame: pd.DataFrame, key: PseudonymKey,
                       columns: Mapping[str, tuple[str, str]] = PSEUDONYMISED_COLUMNS) -> pd.DataFrame:
    """A copy of ``frame`` with every column of ``columns`` pseudonymised."""
    todo = [c for c in columns if c in frame.columns]
    if not todo:
        return frame
    return frame.assign(**{c: pseudonymise_series(frame[c], family=columns[c][0], prefix=columns[c][1], key=key)
                           for c in todo})


# -- redaction of free text ---------------------------------------------------------------------
REDACTED = "[redacted]"
LONG_NUMBER = re.compile(r"\d{6,}")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-_/.][A-Za-z0-9]+)*")


class Redactor:
    """Replace identifier values (whole tokens, case-insensitive) and 6+ digit numbers with ``[redacted]``.

    Built once per set of identifiers: each text is then scanned once, token by token, with a set
    lookup, so the cost does not grow with the number of identifiers. A token such as ``C1234-B``
    is redacted whole when it is an identifier, otherwise each ``-_/.``-separated part is checked.
    """

    def __init__(self, identifiers) -> None:
        cleaned = pd.Series(list(identifiers), dtype="string").str.strip().str.lower()
        self.ids = frozenset(cleaned[cleaned.notna() & (cleaned != "")].tolist())

    def _token(self, m: re.Match) -> str:
        token = m.group(0)
        if token.lower() in self.ids:
            return REDACTED
        parts = re.split(r"([-_/.])", token)
        if len(parts) > 1 and any(p.lower() in self.ids for p in parts[::2]):
            return "".join(REDACTED if i % 2 == 0 and p.lower() in self.ids else p for i, p in enumerate(parts))
        return token

    def __call__(self, text: str) -> str:
        out = _TOKEN.sub(self._token, str(text)) if self.ids else str(text)
        return LONG_NUMBER.sub(REDACTED, out)


def redact(text: str, identifiers) -> str:
    """Replace every identifier value (as a whole token) and every 6+ digit number with ``[redacted]``."""
    return Redactor(identifiers)(text)
