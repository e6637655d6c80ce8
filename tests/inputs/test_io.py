"""README's input data contract is generated from qa_lib.inputs.io (REQUIRED, OPTIONAL): issue 18 found
the indicators and benchmarks tables missing from it. This test keeps the two in step."""

from __future__ import annotations

import re
from pathlib import Path

from qa_lib.inputs import io
from qa_lib.running.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_contract() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(io.CONTRACT_START, 1)[1].split(io.CONTRACT_END, 1)[0].strip("\n") + "\n"


def test_readme_contract_is_the_generated_one():
    assert _readme_contract() == io.contract_markdown(), "run: .venv/bin/qa-workbook input-contract --write"


def _names(cell: str) -> list[str]:
    """The column names of a contract cell: the `code` words left when the (notes) are taken out."""
    while re.search(r"\([^()]*\)", cell):
        cell = re.sub(r"\([^()]*\)", "", cell)
    return re.findall(r"`([a-z_]+)`", cell)


def test_every_table_and_column_is_in_the_readme_contract():
    """Read the README table as a person would: one row per table, each column named in its cell."""
    rows = {}
    for line in _readme_contract().splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells
    assert set(rows) == set(io.REQUIRED) == set(io.OPTIONAL)
    assert {"indicators", "benchmarks"} <= set(rows)
    for table, cells in rows.items():
        assert _names(cells[2]) == list(io.REQUIRED[table]), table
        assert _names(cells[3]) == list(io.OPTIONAL[table]), table


def test_input_contract_command_prints_and_writes(capsys):
    assert main(["input-contract"]) == 0
    assert capsys.readouterr().out == io.contract_markdown()
    stale = f"# x\n\n{io.CONTRACT_START}\n| old |\n{io.CONTRACT_END}\n\nafter\n"
    assert io.with_contract(stale) == f"# x\n\n{io.CONTRACT_START}\n{io.contract_markdown()}{io.CONTRACT_END}\n\nafter\n"
