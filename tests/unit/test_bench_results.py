"""Issue 16: benchmark figures in the docs come from one generated file.

README.md and docs/terminals.md gave different figures for the same terminal
rows.  Now ``make bench`` writes ``benchmarks/results.md`` and copies its tables
into marked blocks; these tests fail when a block was edited by hand or not
re-synced, and when the README's summary quotes a figure the file does not hold.
"""

from __future__ import annotations

import re

import pytest

from benchmarks import results


@pytest.mark.parametrize("doc", sorted(results.DOC_BLOCKS))
def test_doc_quotes_the_results_file(doc: str) -> None:
    assert results.quoted(doc) == results.block(doc)


def test_every_benchmark_has_its_section() -> None:
    found = results.sections()
    modules = sorted(p.stem for p in results.RESULTS.parent.glob("bench_*.py"))
    assert list(found) == modules
    for name, body in found.items():
        assert body.startswith("#### ") and f"python -m benchmarks {name}" in body


def test_readme_summary_figures_are_in_the_results_file() -> None:
    """Every decimal figure the README's "What the tables say" quotes is in a table."""
    readme = (results.ROOT / "README.md").read_text(encoding="utf-8")
    summary = readme.split("What the tables say:", 1)[1].split("<!-- bench-results:", 1)[0]
    figures = set(re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", summary))
    assert figures  # the summary does quote figures
    cells = set(re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", results.RESULTS.read_text()))
    assert sorted(figures - cells) == []


def test_sync_rewrites_a_hand_edited_block(tmp_path, monkeypatch) -> None:
    for doc in results.DOC_BLOCKS:
        target = tmp_path / doc
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (results.ROOT / doc).read_text()
        target.write_text(text.replace(results.quoted(doc, text), "| typed | by hand |"))
    monkeypatch.setattr(results, "ROOT", tmp_path)
    assert results.quoted("docs/terminals.md") != results.block("docs/terminals.md")
    assert sorted(results.sync_docs()) == sorted(results.DOC_BLOCKS)
    for doc in results.DOC_BLOCKS:
        assert results.quoted(doc) == results.block(doc)
