"""The benchmark script runs and prints its table (a smoke test: it must not rot)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_prints_a_row_per_model():
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--models",
            "global-mean",
            "popularity",
            "--ranking",
        ],
        capture_output=True,
        check=False,  # the assert below shows stderr on failure
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = {
        line.split("|")[1].strip(): line
        for line in result.stdout.splitlines()
        if line.startswith("| ")
    }
    assert set(rows) == {"model", "global-mean", "popularity"}
    # the global mean predicts ratings; popularity only ranks
    assert rows["global-mean"].split("|")[2].strip() not in ("", "-")
    assert rows["popularity"].split("|")[2].strip() == "-"


def test_topn_speed_benchmark_compares_the_two_paths():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "topn_speed.py"), "--quick"],
        capture_output=True,
        check=False,  # the assert below shows stderr on failure
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = [
        line.split("|")
        for line in result.stdout.splitlines()
        if line.startswith("| ") and "model" not in line
    ]
    assert [row[1].strip() for row in rows] == ["baseline", "mf-als"]
    assert all(
        row[5].strip() == "True" for row in rows
    )  # the batched lists equal the one-user lists


def test_tune_quick_prints_a_choice_per_model_and_the_bpmf_diagnostics():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "tune.py"), "--quick"],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
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


def test_als_rate_prints_old_and_new_rows_and_their_flops(tmp_path):
    out = tmp_path / "rows.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "als_rate.py"), "--only", "ml-100k 80%",
         "--dims", "3", "20", "--sweeps", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    import json

    stored = json.loads(out.read_text())
    rows = stored["rows"]
    assert stored["meta"]["command"].endswith("--only 'ml-100k 80%' --dims 3 20 --sweeps 1 "
                                              f"--json {out}")  # fmt: skip
    keys = [(row["d"], row["model"], row["impl"], row["n_threads"]) for row in rows]
    assert keys == [
        (3, "als", "old", None), (3, "als", "new", None),
        (3, "ials-chol", "new", None), (3, "ials-cg", "new", None),
        (20, "als", "old", None), (20, "als", "new", None), (20, "als", "new", 2),
        (20, "ials-chol", "new", None), (20, "ials-chol", "new", 2),
        (20, "ials-cg", "new", None),
    ]  # fmt: skip
    m, n, nnz = 943, 1682, 80_000
    for row in rows:
        # the cost models, recomputed with MovieLens 100K's 80% split
        d = row["d"]
        flops = 4 * nnz * d**2 + (m + n) * d**3 / 3
        if row["model"] == "ials-chol":
            flops += 2 * (m + n) * d**2
        if row["model"] == "ials-cg":
            flops = 2 * (m + n) * d**2 + 4 * nnz * d + 4 * (2 * (m + n) * d**2 + 8 * nnz * d)
        assert row["gflop"] * 1e9 == pytest.approx(flops, rel=1e-12)
        assert row["ratio"] == row["gflops"] / row["dense_gflops"]
    by_key = {key: row for key, row in zip(keys, rows, strict=True)}
    # both implementations reach the same objective (to rounding) ...
    old, new = (
        by_key[20, "als", "old", None]["objective"],
        by_key[20, "als", "new", None]["objective"],
    )
    assert abs(old - new) <= 1e-9 * old
    # ... and two threads exactly the one-thread objective
    for model in ("als", "ials-chol"):
        assert (
            by_key[20, model, "new", 2]["objective"] == by_key[20, model, "new", None]["objective"]
        )
    # three CG steps solve a 3 x 3 system exactly (to rounding)
    exact, cg = by_key[3, "ials-chol", "new", None], by_key[3, "ials-cg", "new", None]
    assert cg["objective"] == pytest.approx(exact["objective"], rel=1e-9)
    assert result.stdout.count("ml-100k 80%") >= 10


def test_topn_benchmark_quick_run_prints_its_table():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "topn.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
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


def test_bpmf_benchmark_quick_prints_choices_folds_and_the_paired_test(tmp_path):
    out_json = tmp_path / "bpmf.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bpmf.py"), "--quick", "--json", str(out_json)],
        capture_output=True,
        check=False,  # the assert below shows stderr on failure
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "# unbiased: choice" in out and "# biased: choice" in out
    assert "split R-hat" in out and "Nadeau-Bengio corrected t" in out
    saved = json.loads(out_json.read_text())
    assert set(saved["folds"]) == {"unbiased", "biased"}
    assert [len(rows) for rows in saved["folds"].values()] == [2, 2]
    for name, rows in saved["folds"].items():
        assert saved["mean_rmse"][name] == pytest.approx(sum(r["rmse"] for r in rows) / 2)
    assert saved["chosen"]["biased"]["biased"] is True
