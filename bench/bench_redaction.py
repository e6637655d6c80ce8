"""Redaction speed on a large input: 100,000 comments, 2,000 identifiers (multi-word names, case ids).

Run: .venv/bin/python bench/bench_redaction.py [n_comments]
Prints the time to build the Redactor and to redact every comment (best of 3).
"""

from __future__ import annotations

import random
import sys
import time

from qa_lib.inputs.privacy import Redactor

FIRST = ["Jane", "Tobias", "Siobhan", "Priya", "Kwame", "Agnieszka", "Mohammed", "Chloe", "Declan", "Ifeoma"]
LAST = ["Smith", "Vasquez-Thorne", "O'Neill", "Okafor", "Kowalski", "Patel", "MacDonald", "Fitzgerald-Hughes"]
SENTENCES = [
    "The child's lived experience comes through in the recording.",
    "Management oversight is not evident at the point of step-down.",
    "{name} has built a trusting relationship with the family; {first}'s visits are consistent.",
    "Case {case} shows drift: the plan was not reviewed by {name}.",
    "Direct work with the children is purposeful and recorded promptly.",
    "Chronology is up to date and the genogram is clear.",
]


def corpus(n: int, seed: int = 1) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    names = [f"{f} {s}" for f in FIRST for s in LAST]
    ids = names + [f"CASE-ZX{i:04d}" for i in range(2000 - len(names))]
    texts = []
    for _ in range(n):
        name = rng.choice(names)
        texts.append(" ".join(rng.choice(SENTENCES).format(name=name, first=name.split()[0],
                                                           case=rng.choice(ids[len(names):]))
                              for _ in range(3)))
    return ids, texts


def main(n: int = 100_000) -> None:
    ids, texts = corpus(n)
    t0 = time.perf_counter()
    redactor = Redactor(ids)
    built = time.perf_counter() - t0
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for t in texts:
            redactor(t)
        best = min(best, time.perf_counter() - t0)
    print(f"{n:,} comments, {len(ids):,} identifiers: build {built:.2f} s, redact {best:.2f} s (best of 3)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
