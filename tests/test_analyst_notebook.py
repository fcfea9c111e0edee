"""notebooks/deadlines.ipynb runs headless (nbclient, matplotlib Agg) against the sample database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "deadlines.ipynb"


def test_notebook_executes(sample_db: Path, tmp_path: Path, monkeypatch) -> None:
    """As the README runs it: `CONGVAN_DB=data/congvan.db MPLBACKEND=Agg jupyter-execute
    notebooks/deadlines.ipynb` from the checkout, so the kernel starts in notebooks/
    with a database path relative to the checkout, and Agg must not lose the plots."""
    import os

    figures = tmp_path / "figures"
    # The kernel inherits this process's environment.
    monkeypatch.setenv("CONGVAN_DB", os.path.relpath(sample_db, NOTEBOOK.parents[1]))
    monkeypatch.setenv("CONGVAN_NOTEBOOK_OUT", str(figures))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    plots = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(plots) == 2  # the executed notebook keeps its plots

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs)
    with sqlite3.connect(sample_db) as conn:
        documents, tasks = conn.execute(
            "select (select count(*) from documents), (select count(*) from tasks)").fetchone()
        month, count = conn.execute(
            "select m, count(*) from (select substr(deadline, 1, 7) m from tasks where deadline is not null"
            " union all select substr(due, 1, 7) from reporting_periods where due is not null)"
            " group by m order by count(*) desc, m limit 1").fetchone()
    assert f"{documents} documents, {tasks} tasks" in text
    assert f"'{month}': {count}" in text  # the plotted numbers are the database's
    assert sorted(p.name for p in figures.glob("*.png")) == ["figure-1.png", "figure-2.png"]
