"""Re-execute chapter notebooks top to bottom in a fresh kernel and store the outputs.

Authors run this after changing a chapter or code it uses; the nbval tests
then check that the stored outputs are reproduced exactly.

    .venv/bin/python tests/execute_notebooks.py book/01_recommendation_problem.ipynb [...]

The kernel runs this interpreter (the project's virtual environment), and the
run time of each notebook is printed.
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps of an earlier run
    # record_timing=False: no per-cell timestamps, so re-executing an unchanged chapter
    # changes nothing
    client = NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.write(nb, path)
    return elapsed


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    # the "python3" kernel spec runs the first `python` on PATH: make it this one
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    for arg in sys.argv[1:]:
        seconds = execute(Path(arg))
        print(f"{arg}: executed in {seconds:.1f} s")
