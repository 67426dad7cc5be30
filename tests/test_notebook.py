"""docs/tutorial.ipynb runs top to bottom in a real Jupyter kernel, and shows each plot once."""
import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "docs" / "tutorial.ipynb"


def test_tutorial_is_stored_without_outputs():
    nbformat = pytest.importorskip("nbformat", reason="the notebook extra is not installed")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_tutorial_runs_and_shows_each_plot_once(monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="the notebook extra is not installed")
    nbclient = pytest.importorskip("nbclient", reason="the notebook extra is not installed")
    pytest.importorskip("ipykernel", reason="the notebook extra is not installed")
    pytest.importorskip("matplotlib", reason="the plots need matplotlib")
    pytest.importorskip("graphviz", reason="the graph drawing needs graphviz")
    # The kernel imports this checkout's packages (cwd is the repository root) with the
    # interpreter running the tests, on one BLAS thread like the rest of the suite.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    start = time.perf_counter()
    client.execute()  # jupyter_client runs the "python" of the kernelspec as sys.executable
    seconds = time.perf_counter() - start

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [output for cell in code for output in cell.outputs if output.output_type == "error"]
    assert not errors
    text = "".join(output.get("text", "") for cell in code for output in cell.outputs)
    assert "validation accuracy after 20 epochs" in text and "SGD " in text and "Adam" in text
    plots = [cell for cell in code if "viz.plot_" in cell.source]
    assert len(plots) == 2
    for cell in plots:
        images = [output for output in cell.outputs if "image/png" in output.get("data", {})]
        assert len(images) == 1, f"{cell.source!r} showed {len(images)} images"
    graph = next(cell for cell in code if "viz.draw_graph" in cell.source)
    assert any("image/svg+xml" in output.get("data", {}) or "text/plain" in output.get("data", {})
               for output in graph.outputs)
    assert seconds < 60, f"the tutorial took {seconds:.1f} s; keep it short"
