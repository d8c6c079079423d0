"""The benchmark script runs and prints its table (a smoke test: it must not rot)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_prints_a_row_per_model():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--models", "global-mean", "popularity", "--ranking"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split("|")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("| ")}
    assert set(rows) == {"model", "global-mean", "popularity"}
    # the global mean predicts ratings; popularity only ranks
    assert rows["global-mean"].split("|")[2].strip() not in ("", "-")
    assert rows["popularity"].split("|")[2].strip() == "-"


def test_topn_speed_benchmark_compares_the_two_paths():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "topn_speed.py"), "--quick"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split("|") for line in result.stdout.splitlines() if line.startswith("| ") and "model" not in line]
    assert [row[1].strip() for row in rows] == ["baseline", "mf-als"]
    assert all(row[5].strip() == "True" for row in rows)  # the batched lists equal the one-user lists


def test_topn_benchmark_quick_run_prints_its_table():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "topn.py"), "--quick"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    rows = {line.split("|")[1].strip() for line in lines if line.startswith("| ")}
    expected = {"model", "most popular", "item-kNN, tuned", "EASE, tuned", "ImplicitMF, tuned"}
    assert expected | {"BPR, tuned"} <= rows
    assert "chosen:" in result.stdout


def test_topn_benchmark_json_holds_what_it_printed(tmp_path):
    """--json (read by chapter 7) saves the grids, the choices and the per-fold scores."""
    pytest.importorskip("implicit")
    out = tmp_path / "topn.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "topn.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    saved = json.loads(out.read_text())
    assert saved["n_folds"] == 2 and saved["command"].endswith("--quick")
    for name, grid in saved["validation"].items():
        # the choice is the setting with the best validation NDCG, not a typed one
        best = max(grid, key=lambda row: row["ndcg"])
        assert saved["chosen"][name] == best["params"]
        # each validation score is the one printed for that setting
        for row in grid:
            assert f"{row['params']}: {row['ndcg']:.4f}" in result.stdout
    table = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in result.stdout.splitlines()
        if line.startswith("| ")
    }
    for name, folds in saved["folds"].items():
        assert len(folds) == 2 and all(len(row) == 3 for row in folds)
        ndcg = [row[0] for row in folds]
        mean = sum(ndcg) / 2
        assert table[name].startswith(f"{mean:.3f} ±")
    assert set(saved["fit_time"]) >= {"n_factors", "n_epochs", "float32", "float64"}
