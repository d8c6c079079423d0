"""The benchmark script runs and prints its table (a smoke test: it must not rot)."""

import subprocess
import sys
from pathlib import Path

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
