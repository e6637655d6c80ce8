"""Redaction against a corpus of realistic sentences (issue 14): names in awkward places.

Every sentence is built from pieces, so which characters belong to a name is known exactly. The
corpus has identifiers present in the data (multi-word practitioner and auditor names with
hyphens, apostrophes and accents; case ids like CASE-ZX0001), a ``redact_terms`` entry, and
children's first names that are in no id column (caught by the first-name dictionary). It writes
them at the start and end of sentences, as possessives (straight and curly apostrophes), in ALL
CAPS and lower case, hyphen-less and space-less, next to punctuation and inside brackets.

Recall (every name occurrence fully removed) must be 100% for identifiers in the data and for
``redact_terms``; it is reported for the dictionary names. Precision (share of redacted words that
were names) is reported, not asserted: over-redaction is accepted. A separate check shows common
words survive: on the demo's 3,376 auditor comments at least 97% of words are kept.

Run ``python tests/inputs/test_redaction_corpus.py`` to print the figures.
"""

from __future__ import annotations

import itertools
import re
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # conftest, when run as a script

from qa_lib.inputs.privacy import REDACTED, Redactor

PEOPLE = ["Jane Smith", "Tobias Vasquez-Thorne", "Siobhan O'Neill", "Mary-Kate McAllister",
          "Oluwaseun Adeyemi-Okafor", "Chloé Dubois", "Declan Fitzgerald", "Priya Ramanathan"]
CASES = ["CASE-ZX0001", "CASE-ZX0417", "CASE-QB2290"]
TERMS = ["Acorn Children's Centre", "Lily-Mae"]  # params redact_terms
CHILDREN = ["Grace", "Oliver", "Amelia", "Muhammad", "Isla", "Freddie", "Poppy", "Alfie", "Noah", "Zara"]


def person_forms(name: str) -> list[str]:
    """Ways a person's name is written in free text."""
    first, last = name.split(" ", 1)
    forms = [name, first, last, name.upper(), name.lower(), f"{first}'s", f"{last}’s", f"{name}'s",
             f"{last.upper()}'S", last.replace("-", " "), last.replace("-", "–"), last.replace("'", "’"),
             last.replace("'", ""), f"{first[0]}. {last}", f"{first} {last.replace('-', '')}"]
    return list(dict.fromkeys(forms))


def case_forms(case: str) -> list[str]:
    tail = case.split("-", 1)[1]
    return [case, case.lower(), tail, f"{case}'s", case.replace("-", " "), case.replace("-", ""), tail.lower()]


TEMPLATES = [
    "{X} has built a trusting relationship with the family.",
    "The plan was reviewed by {X}.",
    "Good direct work; {X}’s recording is up to date",
    "Supervision notes ({X}) show reflective discussion.",
    "{X}: chronology updated, genogram clear.",
    "\"{X}\" is named as the allocated worker.",
    "Management oversight from {X}, but drift since May.",
    "Case discussed with {X}/the team manager on 3 May.",
    "The child told {X} that school is going well!",
    "Will {X} follow up the health assessment?",
    "Visits by {X}; the child was seen alone.",
    "Step-down agreed by {X}—no further action.",
    "Worries about neglect were raised with {X}...",
    "FOLLOW UP WITH {X} BEFORE REVIEW.",
    "{X}",
    "See {X}.",
    "Voice of the child: {X} captured wishes and feelings well.",
    "Outcomes are SMART and {X} has shared them with partners.",
]
CHILD_TEMPLATES = [
    "{K} said she feels safe at home.",
    "{K}'s wishes and feelings are clear.",
    "The worker visited {K} at school.",
    "Mum says {K} is sleeping better.",
    "{K}’s brother attends the same nursery.",
    "Direct work with {K}, aged 7, was creative.",
    "Contact between {K} and dad is going well.",
    "Can you thank the worker for helping {K}?",
]


def build_corpus() -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Sentences with the character spans of every name in them and the kind of name."""
    out = []

    def add(template: str, form: str, kind: str, field: str) -> None:
        before, after = template.split("{" + field + "}")
        out.append((before + form + after, [(len(before), len(before) + len(form), kind)]))

    forms = [(f, "data") for p in PEOPLE for f in person_forms(p)] + \
            [(f, "data") for c in CASES for f in case_forms(c)] + \
            [(f, "term") for t in TERMS for f in (t, t.upper(), t.replace("'", "’") + "'s")]
    for i, (form, kind) in enumerate(forms):
        add(TEMPLATES[i % len(TEMPLATES)], form, kind, "X")
        add(TEMPLATES[(i * 7 + 3) % len(TEMPLATES)], form, kind, "X")
    for template, child in itertools.product(CHILD_TEMPLATES, CHILDREN[:6]):
        add(template, child, "dictionary", "K")
    for i, child in enumerate(CHILDREN):
        add(CHILD_TEMPLATES[i % len(CHILD_TEMPLATES)], child.upper(), "dictionary", "K")
    # two names in one sentence, one of them a child's
    for p, k in zip(PEOPLE, CHILDREN):
        first = p.split()[0]
        text = f"{first} and {k} met at the school; {k}'s plan was agreed."
        spans = [(0, len(first), "data")]
        for m in re.finditer(re.escape(k), text):
            spans.append((m.start(), m.end(), "dictionary"))
        out.append((text, spans))
    return out


def redactor() -> Redactor:
    return Redactor(PEOPLE + CASES, terms=TERMS)


def _name_leaked(text: str, span_text: str) -> bool:
    """Whether any name-like piece of the original span (2+ letters or a digit run) survives in ``text``."""
    pieces = [p for p in re.findall(r"[^\W_]+", span_text) if len(p) >= 2 and p.lower() not in {"s", "o"}]
    if any(ch.isdigit() for ch in span_text):  # a case id: its number identifies it, the word CASE does not
        pieces = [p for p in pieces if any(ch.isdigit() for ch in p)]
    low = text.lower()
    return any(re.search(rf"(?<![^\W_]){re.escape(p.lower())}(?![^\W_])", low) for p in pieces)


def measure(r: Redactor | None = None) -> dict:
    r = r or redactor()
    corpus = build_corpus()
    caught = {"data": [0, 0], "term": [0, 0], "dictionary": [0, 0]}
    missed = []
    truth_chars = pred_chars = both_chars = 0
    for text, spans in corpus:
        out = r(text)
        predicted = set()
        for a, b in r.spans(text):
            predicted |= set(range(a, b))
        truth = set()
        for a, b, kind in spans:
            truth |= {i for i in range(a, b) if text[i].isalnum()}
            caught[kind][1] += 1
            if not _name_leaked(out, text[a:b]):
                caught[kind][0] += 1
            else:
                missed.append((kind, text, out))
        pred_alnum = {i for i in predicted if text[i].isalnum()}
        truth_chars += len(truth)
        pred_chars += len(pred_alnum)
        both_chars += len(truth & pred_alnum)
    recall = {k: (v[0] / v[1] if v[1] else 1.0, v[0], v[1]) for k, v in caught.items()}
    return {"sentences": len(corpus), "recall": recall, "missed": missed,
            "precision": both_chars / pred_chars if pred_chars else 1.0,
            "char_recall": both_chars / truth_chars if truth_chars else 1.0}


def demo_comment_words_kept(r: Redactor | None = None) -> tuple[float, int]:
    """Share of the words of the demo's auditor comments that survive redaction (they name nobody)."""
    from qa_lib.running.demo import DEMO_DIR

    r = r or redactor()
    texts = pd.read_csv(DEMO_DIR / "comments.csv", dtype=str)["text"].dropna().tolist()
    words = sum(len(re.findall(r"[^\W_]+", t)) for t in texts)
    gone = sum(len(re.findall(r"[^\W_]+", t)) - len(re.findall(r"[^\W_]+", r(t).replace(REDACTED, ""))) for t in texts)
    return 1 - gone / words, len(texts)


def test_corpus_has_at_least_200_sentences_with_names_in_awkward_places():
    corpus = build_corpus()
    assert len(corpus) >= 200
    texts = [t for t, _ in corpus]
    assert any("’s" in t for t in texts) and any("O'NEILL" in t for t in texts) and any(t.endswith(".") for t in texts)
    assert any(t.startswith(("Tobias", "Jane", "Siobhan")) for t in texts) and any("zx0001" in t for t in texts)


def test_recall_is_100_percent_for_identifiers_in_the_data_and_redact_terms():
    m = measure()
    print(f"\nredaction corpus: {m['sentences']} sentences; recall " + ", ".join(
        f"{k} {v[0]:.1%} ({v[1]}/{v[2]})" for k, v in m["recall"].items())
        + f"; precision {m['precision']:.1%} of redacted characters were names")
    assert m["recall"]["data"][0] == 1.0, [x for x in m["missed"] if x[0] == "data"][:5]
    assert m["recall"]["term"][0] == 1.0, [x for x in m["missed"] if x[0] == "term"][:5]
    # children's first names written with a capital (as auditors write them) are all caught too
    assert m["recall"]["dictionary"][0] == 1.0, [x for x in m["missed"] if x[0] == "dictionary"][:5]


def test_common_words_are_not_all_destroyed():
    m = measure()
    kept, n = demo_comment_words_kept()
    print(f"\nprecision {m['precision']:.1%}; demo comments: {kept:.2%} of words kept over {n:,} comments")
    assert m["precision"] > 0.5  # over-redaction is accepted, but most of what goes is names
    assert kept >= 0.97


def test_spellings_that_must_match():
    r = redactor()
    for text in ["Tobias Vasquez-Thorne’s visit", "VASQUEZ THORNE", "vasquez–thorne", "VasquezThorne",
                 "siobhan o’neill", "ONeill", "O Neill", "Chloe Dubois", "CHLOÉ", "mary kate", "McAllister's",
                 "Mc Allister", "case zx0001", "ZX 0001", "(CASE-ZX0417)", "Acorn Childrens Centre", "LILY MAE"]:
        out = r(text)
        assert not _name_leaked(out, text.replace("visit", "")), (text, out)


if __name__ == "__main__":
    t0 = time.perf_counter()
    m = measure()
    kept, n = demo_comment_words_kept()
    print(f"{m['sentences']} sentences")
    for k, (share, hit, total) in m["recall"].items():
        print(f"  recall, {k}: {share:.1%} ({hit}/{total})")
    print(f"  precision (redacted characters that were names): {m['precision']:.1%}")
    print(f"  demo comments: {kept:.2%} of words kept ({n:,} comments)")
    for miss in m["missed"][:10]:
        print("  missed:", miss)
    print(f"({time.perf_counter() - t0:.1f} s)")
