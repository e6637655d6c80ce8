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

Redaction of free text (:class:`Redactor`, issue 14) matches every identifier as written in any
form, each part of a person's name, the params' ``redact_terms`` and capitalised first names from a
dictionary. The dictionary is the first-name lists of **Faker** (``faker`` on PyPI): chosen because
it is maintained (monthly releases), its data ships inside the wheel (no download at run time, pure
Python, MIT), it holds about 27,000 first names in 86 locales (English, Irish, Welsh, South Asian,
African, European... as in English councils' caseloads), and it loads in about 0.2 s. Rejected:
``names-dataset`` (a 56 MB wheel that needs gigabytes of memory once loaded, with names mined from
a leaked social-network data set and full of everyday words); ``gender-guesser`` (last released in
2016, and its 61,000-name list has "the", "to", "in", "so" as names); a spaCy / Presidio pipeline
(the English models are not on PyPI, so they need a download, and a statistical NER misses names
it has not seen, where a list plus the run's own identifiers misses none of those in the data).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
import os
import secrets
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from qa_lib.core.errors import ParamsError, QAError, problem
from qa_lib.inputs.io import arrow_text

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


def _hmac_states(key: bytes):
    """The SHA-256 states after the inner and outer padded keys of HMAC-SHA256 (RFC 2104 section 2)."""
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key)))


def pseudonymise_series(values: pd.Series, *, family: str, prefix: str, key: PseudonymKey) -> pd.Series:
    """Replace every non-blank value by ``prefix-<12 hex digits>``; blanks stay blank.

    Raises
    ------
    QAError
        Two different ids received the same pseudonym (a truncation collision): the run stops
        rather than merge two people.
    """
    s = values.astype("string")
    # once per distinct id (a million ratings hold a few hundred raters): one Arrow dictionary encoding,
    # the distinct ids hashed, the pseudonyms spread back by its integer codes (issue 15: no per-row
    # Python work, and no Python object per cell)
    enc = pc.dictionary_encode(arrow_text(s))
    uniques = enc.dictionary.to_pylist()
    if not uniques:
        return s
    present = [bool(v.strip()) for v in uniques]
    if not any(present):
        return s
    # HMAC-SHA256 as keyed_digest (RFC 2104: H(K^opad, H(K^ipad, m))) with its two padded-key states
    # hashed once and copied per id: the same digests as hmac.new, without its per-call Python layers
    inner, outer = _hmac_states(key.key)
    head = f"{family}\x1f".encode("utf-8")

    def digest(v: str) -> str:
        i = inner.copy()
        i.update(head + v.encode("utf-8"))
        o = outer.copy()
        o.update(i.digest())
        return f"{prefix}-" + o.hexdigest()[:DIGITS]
    mapped = [digest(v) if keep else v for v, keep in zip(uniques, present)]
    n_present = sum(present)
    if len({m for m, keep in zip(mapped, present) if keep}) != n_present:
        raise QAError(f"pseudonymising {family} ids: two different ids received the same pseudonym "
                      f"(expected none; {n_present} ids). Fix: run again with another key")
    out = pc.take(pa.array(mapped, type=pa.large_string()), enc.indices)
    return pd.Series(pd.array(out, dtype="string"), index=s.index)


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
EMAIL = re.compile(r"[^\s@<>()\[\]]+@[^\s@<>()\[\]]+\.[^\s@<>()\[\].,;:]+")
#: a word of text: a run of letters and digits (any script); everything else separates words
_WORD = re.compile(r"[^\W_]+")
#: an identifier may be written across this many words of text ("CASE ZX 0001", "Siobhan O ' Neill")
MAX_WORDS = 6
#: surname particles never redacted on their own (the rest of the name still is)
PARTICLES = frozenset("o d de da di du la le el al van von der den del dos das st mc mac bin bint ibn ap".split())
#: names in the first-name dictionary that are also common English (or programming) words and are
#: almost never a child's name in England: left out of the dictionary so prose survives; a data
#: identifier or a ``redact_terms`` entry with the same spelling is still redacted
NOT_NAMES = frozenset("""
a an as at be by do go he if in is it me my no of on or so to up us we the and but not can case add
elif else true false none null unique unknown valid server constant reason less said skip made long
line link lies ties per max min len sys tab job early ever among carry chance council judge floor
branch trace tiny pink orange math meta nan dev dom ceil lo beta alpha aud pol page peer fisher
forest laney holm seaborn chi any all one two six ten own via yet etc due gap key map set new old
""".split())


def _fold(token: str) -> str:
    """Lower case without accents: ``Zoë`` and ``ZOE`` both give ``zoe``."""
    low = token.lower()
    if low.isascii():
        return low
    return "".join(ch for ch in unicodedata.normalize("NFKD", low) if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    return [_fold(w) for w in _WORD.findall(str(text))]


@functools.lru_cache(maxsize=1)
def first_name_dictionary() -> frozenset[str]:
    """Every first name in Faker's person providers (all locales), folded to lower case without accents.

    About 31,000 names in 86 locales, from a maintained package whose data ships inside the wheel:
    no download at run time. Names of one or two letters after folding that are English words
    (:data:`NOT_NAMES`) are left out. Loaded once per process (about 0.2 s).
    """
    import importlib  # deferred: only the redactor needs it
    import pkgutil  # deferred: only the redactor needs it

    import faker.providers.person as person  # deferred: 0.2 s; loaded only when free text is redacted

    names: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        try:
            provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        except (ImportError, AttributeError):  # pragma: no cover - a locale without a person provider
            continue
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            value = next((base.__dict__[attr] for base in provider.__mro__ if attr in base.__dict__), None)
            if isinstance(value, dict):  # some locales weight their names: name -> frequency
                value = list(value)
            if isinstance(value, (list, tuple, set, frozenset)):
                for name in value:
                    if isinstance(name, str):
                        for word in _words(name):
                            if len(word) >= 2 and word.isalpha():
                                names.add(word)
    return frozenset(names - NOT_NAMES)


_DIGIT_PART = re.compile(r"[0-9A-Za-z]*\d[0-9A-Za-z]*")
_RUN = re.compile(r"[^\W\d_]+|\d+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _runs(value: str) -> list[str]:
    """The pieces a spelling of ``value`` may be split into in text: words, letter and digit runs
    and camel-case humps (``McDonald`` → ``mc``, ``donald``; ``ZX0001`` → ``zx``, ``0001``), folded."""
    return [_fold(r) for part in _CAMEL.split(str(value)) for r in _RUN.findall(part)]


def _variants(value: str) -> tuple[set[str], set[str]]:
    """The squashed spellings of one identifier that redaction matches, and their prefixes.

    A spelling is the value's letters and digits, folded, with every separator removed
    (``Vasquez-Thorne`` → ``vasquezthorne``, ``O’Neill`` → ``oneill``, ``CASE-ZX0001`` →
    ``casezx0001``). A value of two or more words of letters only (a person's name) also gives
    each part alone (``siobhan``, ``oneill``, ``neill``; particles such as ``de`` and ``o`` are
    not parts) and, for each, the plural / possessive ``…s``. A value with letters and digits
    also gives each part of three or more characters that holds a digit (``zx0001``).

    The prefixes are the joins of a spelling's first pieces (:func:`_runs`): the points where
    text may split it into words (``case``, ``casezx`` for ``casezx0001``).
    """
    value = str(value).strip()
    if value.isalnum() and value.isascii() and not _CAMEL.search(value):  # fast path: AUD011, QA0001234
        runs = _RUN.findall(value.lower())
        return {"".join(runs)}, set(itertools.accumulate(runs[:-1])) if len(runs) > 1 else set()
    words = _words(value)
    if not words:
        return set(), set()
    keys = {"".join(words)}
    spaced = [w for w in re.split(r"\s+", value) if _WORD.search(w)]
    pieces = [spaced]
    if len(words) >= 2 and all(w.isalpha() for w in words):
        for w in spaced + _WORD.findall(value):
            part = "".join(_words(w))
            if len(part) >= 2 and part not in PARTICLES:
                keys |= {part, part + "s"}
                pieces.append([w])
        keys.add("".join(words) + "s")
    elif len(words) >= 2:
        for w in _WORD.findall(value):
            part = _fold(w)
            if len(part) >= 3 and any(ch.isdigit() for ch in part):
                keys.add(part)
                pieces.append([w])
    prefixes: set[str] = set()
    for piece in pieces:
        runs = [r for w in piece for r in _runs(w)]
        joined = ""
        for r in runs[:-1]:
            joined += r
            prefixes.add(joined)
    return keys, prefixes


def _occurs_in(values: pa.Array, blob: str, *, candidates: np.ndarray) -> np.ndarray:
    """Where ``candidates``, whether each of ``values`` (Arrow text) is a substring of ``blob``; False elsewhere.

    Vectorised for very many values: a value of three or more characters can only occur when its first
    three do, so the blob's trigrams filter first; then each length of the values left is checked
    either by a substring search per value (few values) or against the set of the blob's substrings
    of that length (many values against a long blob), whichever is cheaper.
    """
    out = np.zeros(len(values), dtype=bool)
    if not candidates.any():
        return out
    length = pc.utf8_length(values).fill_null(0).to_numpy(zero_copy_only=False)
    n = len(blob)
    short = candidates & (length < 3)
    for i in np.flatnonzero(short):
        out[i] = values[int(i)].as_py() in blob
    trigrams = pa.array(list({blob[i:i + 3] for i in range(max(n - 2, 0))}), type=pa.large_string())
    head = pc.is_in(pc.utf8_slice_codeunits(values, 0, 3), value_set=trigrams).fill_null(False)
    todo = candidates & ~short & head.to_numpy(zero_copy_only=False) & (length <= n)
    for size in np.unique(length[todo]):
        at = np.flatnonzero(todo & (length == size))
        picked = values.take(pa.array(at))
        # cost in ~ns: a search ~50 + n/20 per value; the set ~100 per position of the blob
        if len(at) * (50 + n / 20) > 100 * (n - size + 1):
            found = pa.array(list({blob[i:i + size] for i in range(n - size + 1)}), type=pa.large_string())
            out[at] = pc.is_in(picked, value_set=found).fill_null(False).to_numpy(zero_copy_only=False)
        else:
            out[at] = [v in blob for v in picked.to_pylist()]
    return out


class Redactor:
    """Replace identifiers, names, e-mail addresses and 6+ digit numbers in free text with ``[redacted]``.

    What is matched (over-redaction is accepted; missing a name is not):

    * every identifier value of the run as written (``identifiers``: case, child, practitioner,
      auditor, moderator ids and record numbers) and every ``terms`` entry (params
      ``redact_terms``), case-insensitively, across any separators: ``Vasquez-Thorne``,
      ``vasquez thorne``, ``VasquezThorne``, ``O’Neill``, ``O'Neill``, ``ONeill``, ``CASE-ZX0001``,
      ``case zx0001``; a possessive or plural (``Grace's``, ``Vasquez-Thorne’s``, ``the Smiths``)
      loses the name; accents are ignored (``Zoë`` = ``Zoe``);
    * each part of a value that is a person's name (two or more words of letters): ``Jane`` and
      ``Smith`` alone for ``Jane Smith``;
    * with ``first_names`` (the default), any word written with a capital letter (``Lily``,
      ``LILY``) that is a first name in :func:`first_name_dictionary`, so children's first names
      that are in no id column are caught. Words in lower case are not matched against the
      dictionary: it holds names that are also everyday words (``will``, ``may``, ``grace``).

    How: the matchable spellings are squashed (letters and digits only, folded) into one set, with
    the set of their prefixes at the points where a text may split them (:func:`_variants`). A text
    is split into words once; from each word that is a spelling or begins one, the following words
    are joined while the join is still a prefix, keeping the longest join that is a spelling. So the cost per text is about one set look-up per word,
    whatever the number of identifiers, and an identifier split over words in any way is found.
    """

    def __init__(self, identifiers=(), *, terms=(), first_names: bool = True) -> None:
        keys: set[str] = set()
        prefixes: set[str] = set()
        for value in dict.fromkeys([*identifiers, *terms]):
            if value is None or (isinstance(value, float) and value != value):
                continue
            k, p = _variants(value)
            keys |= k
            prefixes |= p
        keys.discard("")
        self.keys = frozenset(keys)
        self.prefixes = frozenset(prefixes)
        self.names = first_name_dictionary() if first_names else frozenset()
        self.ids = self.keys  # kept for callers that test ``if redactor.ids``

    @classmethod
    def for_texts(cls, identifiers, texts, *, terms=(), first_names: bool = True) -> "Redactor":
        """A Redactor for a few texts (reasons, quotes) among very many identifiers: the same result on
        ``texts`` as ``Redactor(identifiers, ...)``, built only from the identifiers that can occur in
        them. Kept: every value with a space or a non-ASCII letter (a person's name: its parts match
        alone), every value whose letters and digits occur in the texts' letters and digits, and every
        value one of whose parts with a digit occurs there. ``identifiers`` may be an Arrow string array
        (what the loader holds: no Python object per id)."""
        texts = [str(t) for t in texts]
        blob = "\x00".join("".join(_words(t)) for t in texts)
        if isinstance(identifiers, (pa.Array, pa.ChunkedArray)) and (pa.types.is_string(identifiers.type)
                                                                     or pa.types.is_large_string(identifiers.type)):
            ids = pc.unique(identifiers).drop_null()
            ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
        else:
            values = list(identifiers) if isinstance(identifiers, (set, frozenset)) else list(dict.fromkeys(identifiers))
            try:
                ids = pa.array(values, type=pa.large_string(), from_pandas=True).drop_null()
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: as the Redactor would read them
                ids = arrow_text(pd.Series(values, dtype="object").dropna().astype(str))
        if not len(ids):
            return cls((), terms=terms, first_names=first_names)
        # issue 15: vectorised on Arrow (a run holds ~400,000 ids). A value is "simple" when it is ASCII
        # with no whitespace inside it (str.isspace's ASCII set: \t \n \v \f \r, \x1c-\x1f and space);
        # a simple value of letters and digits only is its own squashed form, lower-cased.
        alnum = pc.match_substring_regex(ids, r"^[0-9A-Za-z]*$").to_numpy(zero_copy_only=False)
        simple = alnum.copy()
        squashed = pc.ascii_lower(ids)
        rest = np.flatnonzero(~alnum)
        if len(rest):
            other = ids.take(pa.array(rest))
            ws = "[\t\n\x0b\x0c\r\x1c-\x1f ]"
            inner = pc.match_substring_regex(other, f"[^{ws[1:-1]}]{ws}+[^{ws[1:-1]}]").to_numpy(zero_copy_only=False)
            simple[rest] = pc.string_is_ascii(other).to_numpy(zero_copy_only=False) & ~inner
            fixed = pc.replace_substring_regex(pc.utf8_lower(other), "[^0-9a-z]+", "")
            squashed = pc.replace_with_mask(squashed, pa.array(~alnum), fixed)
        keep = ~simple | _occurs_in(squashed, blob, candidates=simple)
        # a value with separators may also occur by one of its parts that holds a digit (3+ characters)
        for i in np.flatnonzero(simple & ~keep & ~alnum):
            keep[i] = any(p.lower() in blob for p in _DIGIT_PART.findall(ids[int(i)].as_py()) if len(p) >= 3)
        return cls(ids.filter(pa.array(keep)).to_pylist(), terms=terms, first_names=first_names)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Start and end of every stretch of ``text`` to redact, in order, not overlapping."""
        keys, prefixes, names = self.keys, self.prefixes, self.names
        low = text.lower()
        lows = _WORD.findall(low) if text.isascii() else [_fold(w) for w in _WORD.findall(text)]
        hits = [i for i, w in enumerate(lows)
                if w in keys or w in prefixes or w in names or (w[-1:] == "s" and w[:-1] in names)]
        if not hits:
            return []
        found = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        out: list[tuple[int, int]] = []
        n, done = len(lows), 0
        for i in hits:
            if i < done:
                continue
            best = 0
            joined, j = lows[i], i
            while True:
                if joined in keys:
                    best = j - i + 1
                j += 1
                if joined not in prefixes or j >= n or j - i >= MAX_WORDS:
                    break
                joined += lows[j]
            if not best and names and text[found[i][0]].isupper():
                w = lows[i]
                best = int(w in names or (w[-1:] == "s" and w[:-1] in names))
            if best:
                start, stop = found[i][0], found[i + best - 1][1]
                if out and out[-1][1] >= start:
                    out[-1] = (out[-1][0], stop)
                else:
                    out.append((start, stop))
                done = i + best
        return out

    def __call__(self, text: str) -> str:
        text = EMAIL.sub(REDACTED, str(text))
        spans = self.spans(text)
        if spans:
            pieces, last = [], 0
            for start, stop in spans:
                pieces.append(text[last:start])
                pieces.append(REDACTED)
                last = stop
            pieces.append(text[last:])
            text = "".join(pieces)
        return LONG_NUMBER.sub(REDACTED, text)


def redact(text: str, identifiers, *, terms=(), first_names: bool = True) -> str:
    """Redact one text (see :class:`Redactor`; build one Redactor to redact many texts)."""
    return Redactor(identifiers, terms=terms, first_names=first_names)(text)
