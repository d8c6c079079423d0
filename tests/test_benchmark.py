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


def test_tune_quick_prints_a_choice_per_model_and_the_bpmf_diagnostics():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "tune.py"), "--quick"],
        check=False, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for name in ("als", "sgd", "gd", "pmf", "baseline"):
        assert f"## {name} " in out
    summary = out.split("## summary")[1]
    for name in ("als", "sgd", "gd", "pmf", "baseline", "bpmf"):
        assert f"  {name} " in summary
    # the quick ALS grid holds the default and a weaker penalty; the validation scores decide
    assert "<- choice" in out and "<- current default" in out
    assert "split R-hat" in out and "burn-in    0" in out
