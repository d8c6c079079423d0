"""Bayesian PMF with and without biases: 5-fold RMSE on MovieLens 100K, tuned on training data only.

The protocol of chapter 6, for ``BayesianPMF(biased=False)`` and ``BayesianPMF(biased=True)``
alike (the same grid, the same chains, the same rule):

1. **Burn-in and sweeps from training diagnostics.**  For every variant and every
   :math:`d` of the grid, ``tune.bpmf_burn_in`` (the rule behind the package defaults) runs
   several chains on fold 0's *training* part and takes the first burn-in after which the
   rank-normalized split R-hat of the training log-likelihood, of the noise precision and of
   the predictions for random pairs is below 1.05; the kept sweeps follow from the bulk ESS of
   those predictions (400 over the chains).  A single chain then runs
   ``burn_in + n_chains * kept`` sweeps (capped by ``--max-sweeps``).  No held-out rating is
   used, nor any RMSE.
2. **d on a validation split of fold 0's training part only**
   (``train_test_split(train_0, 0.2, random_state=1)``): each setting is fitted on the
   fitting part and scored on the validation part; the lowest validation RMSE wins.  The bias
   prior has no free setting (its hyperprior is the one-dimensional case of the factors'), so
   :math:`d` is the only choice, from the same grid for both variants.
3. **Five folds** of ``kfold(ratings, 5, random_state=0)``: each variant with its choice,
   ``random_state=0``; per-fold RMSE, each fit's single-chain burn-in R-hat
   (``burn_in_rhat_``) as a check, the means, and the Nadeau-Bengio corrected resampled
   t-test (:func:`recsys_tutorial.significance.corrected_resampled_ttest`) of biased against
   unbiased.

    python benchmarks/bpmf.py                                  # the full run (tens of minutes)
    python benchmarks/bpmf.py --json benchmarks/results/bpmf.json
    python benchmarks/bpmf.py --quick                          # a smoke run (short chains)

Needs MovieLens 100K (``RECSYS_TUTORIAL_DATA`` or the download cache).
"""

from __future__ import annotations

import os

# one thread, set before numpy loads its BLAS
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import datetime
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import recsys_tutorial as rt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tune  # the burn-in rule of the package defaults, shared, not copied

VARIANTS = {"unbiased": {"biased": False}, "biased": {"biased": True}}
GRID = (5, 10, 20)


def chain_length(train, params, n_chains, n_sweeps, max_sweeps):
    """``(burn_in, n_samples)`` of one chain, from ``tune.bpmf_burn_in`` on ``train``."""
    with warnings.catch_warnings():
        # the diagnostic chains keep every sweep (burn_in=0), so each one warns that it drifts
        warnings.simplefilter("ignore", rt.models.ConvergenceWarning)
        burn_in, kept = tune.bpmf_burn_in(train, n_chains, n_sweeps, params=params)
    if burn_in is None:  # not mixed within n_sweeps: say so and use the second half
        burn_in, kept = n_sweeps // 2, (n_sweeps - n_sweeps // 2) // n_chains
        print(f"  NOT CONVERGED by the rule: falling back on burn-in {burn_in}")
    n_samples = burn_in + n_chains * kept
    if n_samples > max_sweeps:
        print(f"  n_samples {n_samples} capped at --max-sweeps {max_sweeps}")
        n_samples = max_sweeps
    return int(burn_in), int(max(n_samples, burn_in + 8))


def fit_score(params, train, test):
    """RMSE on ``test`` of one chain on ``train``, its burn-in R-hat and the fit seconds."""
    model = rt.models.BayesianPMF(random_state=0, **params)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # the single-chain drift check is recorded (burn_in_rhat_), not shown as a warning
        warnings.simplefilter("ignore", rt.models.ConvergenceWarning)
        model.fit(train)
    seconds = time.perf_counter() - t0
    score = rt.metrics.rmse(test.values, model.predict(test.users, test.items))
    return float(score), float(model.burn_in_rhat_), seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short chains, two folds (smoke)")
    parser.add_argument("--chains", type=int, default=4, help="chains of the burn-in rule")
    parser.add_argument("--sweeps", type=int, default=500, help="sweeps per diagnostic chain")
    parser.add_argument("--max-sweeps", type=int, default=1500, help="cap of one chain's length")
    parser.add_argument("--grid", type=int, nargs="+", default=list(GRID), help="values of d")
    parser.add_argument("--json", metavar="PATH", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.chains, args.sweeps, args.max_sweeps, args.grid = 2, 40, 60, [2, 4]
    t_start = time.perf_counter()

    ratings = rt.datasets.load_movielens_100k()
    folds = list(rt.model_selection.kfold(ratings, 5, random_state=0))
    if args.quick:
        folds = folds[:2]
    train0 = folds[0][0]
    fit, val = rt.model_selection.train_test_split(train0, 0.2, random_state=1)
    print(
        f"MovieLens 100K, {len(folds)} folds; choices on fold 0's training part only: "
        f"diagnostics on all {len(train0)} of its ratings, d on fitting {len(fit)} / "
        f"validation {len(val)} (train_test_split(train_0, 0.2, random_state=1))"
    )

    # 1-2: chain lengths from the diagnostics, then d from the validation split
    validation, chosen = {}, {}
    for name, variant in VARIANTS.items():
        validation[name] = []
        for d in args.grid:
            params = {"n_factors": d, **variant}
            burn_in, n_samples = chain_length(
                train0, params, args.chains, args.sweeps, args.max_sweeps
            )
            params.update(burn_in=burn_in, n_samples=n_samples)
            score, rhat, seconds = fit_score(params, fit, val)
            validation[name].append({"params": params, "rmse": score, "burn_in_rhat": rhat})
            print(
                f"# {name} d={d}: burn_in {burn_in}, n_samples {n_samples}: validation RMSE "
                f"{score:.4f} (single-chain burn-in R-hat {rhat:.3f}, {seconds:.1f} s)",
                flush=True,
            )
        best = min(validation[name], key=lambda row: row["rmse"])
        chosen[name] = best["params"]
        print(f"# {name}: choice {best['params']} (validation RMSE {best['rmse']:.4f})")

    # 3: the five folds
    results = {name: [] for name in VARIANTS}
    print("\n## 5-fold RMSE (test folds used only here, once per variant)")
    print(f"{'fold':>4s}  " + "  ".join(f"{n:>24s}" for n in VARIANTS))
    for k, (train, test) in enumerate(folds):
        cells = []
        for name in VARIANTS:
            score, rhat, seconds = fit_score(chosen[name], train, test)
            results[name].append({"rmse": score, "burn_in_rhat": rhat, "seconds": seconds})
            cells.append(f"{score:.4f} (R-hat {rhat:.3f}, {seconds:5.1f}s)")
        print(f"{k:>4d}  " + "  ".join(f"{c:>24s}" for c in cells), flush=True)
    means = {n: float(np.mean([r["rmse"] for r in rows])) for n, rows in results.items()}
    print(f"{'mean':>4s}  " + "  ".join(f"{means[n]:>24.4f}" for n in VARIANTS))

    a = [r["rmse"] for r in results["biased"]]
    b = [r["rmse"] for r in results["unbiased"]]
    test_result = rt.significance.corrected_resampled_ttest(a, b, 1.0 / (5 - 1))
    print(
        f"\nbiased - unbiased: {test_result.mean_difference:+.4f} +- {test_result.std_error:.4f} "
        f"(Nadeau-Bengio corrected t = {test_result.t:.2f}, {test_result.df} df, "
        f"p = {test_result.p_value:.3f}; {100 * test_result.confidence:.0f}% interval "
        f"[{test_result.ci_low:+.4f}, {test_result.ci_high:+.4f}])"
    )
    print(f"target biased 5-fold RMSE <= 0.890: {'met' if means['biased'] <= 0.890 else 'missed'}")
    total = time.perf_counter() - t_start
    print(f"total {total:.0f} s")

    if args.json:
        out = {
            "produced": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "command": "python " + " ".join(["benchmarks/bpmf.py", *(argv or sys.argv[1:])]),
            "machine": platform.machine(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "n_folds": len(folds),
            "diagnostics": {"chains": args.chains, "sweeps": args.sweeps},
            "validation": validation,
            "chosen": chosen,
            "folds": results,
            "mean_rmse": means,
            "paired_test": {
                "mean_difference": test_result.mean_difference,
                "std_error": test_result.std_error,
                "t": test_result.t,
                "df": test_result.df,
                "p_value": test_result.p_value,
                "interval": [test_result.ci_low, test_result.ci_high],
            },
            "seconds": total,
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
