"""Re-derive the package's defaults from training data only, and print how.

The protocol of chapter 6: nothing is chosen on a test split.  For the book's
fixed split ``train_test_split(ratings, 0.2, random_state=0)`` the 80 %
training part is split again, ``train_test_split(train, 0.2, random_state=1)``,
into a fitting part (64 % of the ratings) and a validation part (16 %); every
grid point is fitted on the first and scored (RMSE) on the second.  The test
20 % is never loaded into any model here.

For each model the script prints the grid, every validation score, the
choice, and the package's current default with its own validation score (the
default is always a grid point), so that a difference between the two is
visible and measured on the same validation data.

A learning rate is chosen on 64 % of the ratings but used, as a default, on
training parts of 80 %: the curvature of the objective grows with the number
of ratings per row, so a step that is stable on the fitting part can diverge
on the whole training part.  The gradient solvers' choice is therefore the
best validation score among the grid points that also train stably (no
divergence, no rising objective) on the whole training part -- a check on
training data only, that uses no held-out rating.

Bayesian PMF's burn-in is not a validation-score choice: it comes from
training-data diagnostics of several chains run on the whole training part --
the training log-likelihood, the noise precision alpha, the factor scales and
the predictions for random user-item pairs (no rating of them is used) --
through the rank-normalized split R-hat of :mod:`recsys_tutorial.diagnostics`:
the number of sweeps follows from the bulk effective sample size per draw of the
predictions (enough kept sweeps for ``ESS_TARGET`` in *one* chain, since the
default fit runs one, rounded up to a multiple of ``ROUND_TO``), and the burn-in
is the first candidate (every ``BURN_IN_STEP`` sweeps) after which the deciding
quantities have R-hat below ``RHAT_LIMIT`` over the chains *and* each chain alone,
cut at that burn-in and number of sweeps, passes the drift check that
``BayesianPMF.fit`` warns about.

    python benchmarks/tune.py            # everything (several minutes on one core)
    python benchmarks/tune.py --quick    # tiny grids and short chains: a smoke test
    python benchmarks/tune.py --models als baseline

Needs MovieLens 100K (``RECSYS_TUTORIAL_DATA`` or the download cache).
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings

import numpy as np

import recsys_tutorial as rt

#: R-hat below which a monitored quantity counts as mixed (Vehtari et al. 2021 suggest 1.01
#: for final results; with a few hundred draws per chain its noise alone is about 0.01).
RHAT_LIMIT = 1.05
#: The single-chain drift limit of BayesianPMF.fit's warning.
BURN_IN_RHAT_LIMIT = rt.models.bpmf.BURN_IN_RHAT_LIMIT
#: Bulk ESS of the median prediction that the kept sweeps of one chain should reach.  Vehtari
#: et al. find about 100 enough for means; for the posterior-mean prediction it leaves a Monte
#: Carlo error of a tenth of the posterior standard deviation, which adds 1 % of the posterior
#: variance (a few 1e-4 stars^2) to the mean squared error.
ESS_TARGET = 100
#: Candidate burn-ins are 0, BURN_IN_STEP, 2 BURN_IN_STEP, ... (independent of the chain length,
#: so that longer diagnostic chains do not change the grid).
BURN_IN_STEP = 50
#: n_samples is rounded up to a multiple of this (a round default, and a margin).
ROUND_TO = 50


# ------------------------------------------------------------------ grids
def _defaults(model) -> dict:
    """The values of ``model``'s parameters that fit will use (get_params shows them)."""
    return model.get_params()


def searches(quick: bool) -> dict:
    """name -> (template model, list of grids).  A grid is a dict of name -> values; a list of
    grids is searched one after the other (sklearn's convention), so that a penalty's values can
    depend on how it is scaled."""
    als = rt.models.MatrixFactorization(solver="als", random_state=0)
    sgd = rt.models.MatrixFactorization(solver="sgd", random_state=0)
    gd = rt.models.MatrixFactorization(solver="gd", random_state=0)
    pmf = rt.models.PMF(random_state=0)
    baseline = rt.models.Baseline()
    if quick:
        # few epochs, so that the smoke test takes seconds
        sgd.set_params(n_epochs=2)
        gd.set_params(n_epochs=5)
        return {
            "als": (als, [{"n_factors": [5], "reg": [0.6, 1.2], "reg_exponent": [0.5]}]),
            "sgd": (sgd, [{"reg": [1.0], "lr": [0.02]}]),
            "gd": (gd, [{"reg": [1.0], "lr": [1e-3]}]),
            "pmf": (pmf, [{"sigma_u": [0.5], "sigma_v": [0.5], "n_factors": [4]}]),
            "baseline": (baseline, [{"reg_user": [5.0, 10.0], "reg_item": [5.0]}]),
        }
    # factor-2 steps around the scale each penalty lives on; the count-scaled penalty
    # lambda |Omega_i|^nu needs smaller lambda for larger nu
    return {
        "als": (
            als,
            [
                {
                    "reg_exponent": [0.5],
                    "n_factors": [2, 5, 10, 20],
                    "reg": [0.3, 0.6, 1.2, 2.4, 4.8],
                },
                {
                    "reg_exponent": [1.0],
                    "n_factors": [2, 5, 10, 20],
                    "reg": [0.025, 0.05, 0.1, 0.2, 0.4],
                },
            ],
        ),
        # SGD and GD share the penalty convention (reg_exponent) that the ALS search chooses
        "sgd": (sgd, [{"reg": [0.5, 1.0, 2.0], "lr": [0.01, 0.02, 0.04]}]),
        "gd": (gd, [{"reg": [0.5, 1.0, 2.0], "lr": [5e-4, 1e-3, 2e-3, 4e-3]}]),
        # lambda = sigma^2 / sigma_u^2 with sigma = 1: 8, 4, 2, 1
        "pmf": (pmf, [{"sigma_u": [0.35, 0.5, 0.71, 1.0], "n_factors": [2, 4, 8]}]),
        "baseline": (
            baseline,
            [
                {
                    "reg_user": [0.0, 2.0, 5.0, 10.0, 15.0, 25.0],
                    "reg_item": [0.0, 2.0, 5.0, 10.0, 15.0, 25.0],
                }
            ],
        ),
    }


def _combos(grid: dict):
    names = list(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        yield dict(zip(names, values))


def validation_rmse(model, fit: rt.Ratings, val: rt.Ratings) -> tuple[float, str]:
    """RMSE on ``val`` of ``model`` fitted on ``fit`` (inf when a gradient solver diverges), and
    the first warning the fit raised ("" if none), printed beside the score rather than on
    stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", rt.models.ConvergenceWarning)
        try:
            scores = rt.model_selection.cross_validate(model, fit, [(fit, val)], ["rmse"])
        except RuntimeError:  # the gradient solvers' divergence guard: a too-large learning rate
            return np.inf, "diverged"
    note = str(caught[0].message).split(";")[0].split(" (last")[0] if caught else ""
    return float(scores["test_rmse"][0]), note


def trains_stably(model, train: rt.Ratings) -> str:
    """Why ``model`` does not train stably on ``train`` (it diverges or its objective keeps
    rising), or "" when it does.  Uses the training ratings only: the fit is never scored."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", rt.models.ConvergenceWarning)
        try:
            model.clone().fit(train)
        except RuntimeError:
            return "diverged"
        except rt.models.ConvergenceWarning:
            return "the objective rose several epochs in a row"
    return ""


def tune_model(name, template, grids, fit, val, train):
    """Score every grid point and the current default; print them; return a summary row.

    For a model with a learning rate the choice must also train stably on ``train`` (the whole
    training part, of which ``fit`` is 80 %): see the module docstring."""
    rows = []
    for grid in grids:
        for params in _combos(grid):
            if name == "pmf" and "sigma_u" in params and "sigma_v" not in params:
                params["sigma_v"] = params["sigma_u"]  # one prior scale for both sides
            t0 = time.perf_counter()
            score, note = validation_rmse(template.clone().set_params(**params), fit, val)
            rows.append((params, score, time.perf_counter() - t0, note))
    defaults = _defaults(template)
    default_params = {k: defaults[k] for k in rows[0][0]}
    known = [score for params, score, _, _ in rows if params == default_params]
    default_score = known[0] if known else validation_rmse(template.clone(), fit, val)[0]
    unstable = {}
    for params, score, _, _ in sorted(rows, key=lambda row: row[1]):
        if not np.isfinite(score):
            break
        if defaults.get("lr") is not None:
            why = trains_stably(template.clone().set_params(**params), train)
            if why:
                unstable[id(params)] = why
                continue
        best_params, best_score = params, score
        break

    # a choice at the end of an axis of 3 or more values may lie outside the grid: say so
    axes = {}
    for grid in grids:
        for key, values in grid.items():
            axes.setdefault(key, set()).update(values)
    edges = [
        k
        for k, v in best_params.items()
        if k in axes and len(axes[k]) >= 3 and v in (min(axes[k]), max(axes[k]))
    ]

    print(f"\n## {name}  ({len(rows)} grid points, validation RMSE)")
    for params, score, seconds, note in sorted(rows, key=lambda row: row[1]):
        text = ", ".join(f"{k}={v:g}" for k, v in params.items())
        flag = "  <- choice" if params == best_params else ""
        flag += "  <- current default" if params == default_params else ""
        if id(params) in unstable:
            flag += f"  <- not stable on the whole training part ({unstable[id(params)]})"
        if note and np.isfinite(score):
            flag += f"  [{note}]"
        print(f"  {score:.4f}  ({seconds:5.2f} s)  {text}{flag}")
    if edges:
        print(f"  note: the choice is at the edge of the grid for {', '.join(edges)}")
    return name, default_params, default_score, best_params, best_score


# ------------------------------------------------------------------ BPMF
def bpmf_chains(
    train: rt.Ratings, n_chains: int, n_sweeps: int, init: str = "random", n_pairs: int = 2000
):
    """Traces of ``n_chains`` BayesianPMF chains (defaults otherwise) on ``train``, seeds 0, 1, ...

    Returns a dict of arrays shaped (n_chains, n_sweeps) -- training log-likelihood, alpha, mean
    squared norms of the user and item factors (what the Normal-Wishart hyperparameters are
    drawn from) -- and ``"predictions"`` (n_chains, n_sweeps, n_pairs) for random pairs of
    users and items that have training ratings (their ratings, if any, are not used).
    """
    rng = np.random.default_rng(12345)
    known_users = np.flatnonzero(train.user_counts() > 0)
    known_items = np.flatnonzero(train.item_counts() > 0)
    pair_users = rng.choice(known_users, n_pairs)
    pair_items = rng.choice(known_items, n_pairs)
    traces = {
        k: np.empty((n_chains, n_sweeps))
        for k in ("log-likelihood", "alpha", "user scale", "item scale", "training RMSE")
    }
    traces["predictions"] = np.empty((n_chains, n_sweeps, n_pairs))
    for chain in range(n_chains):
        t0 = time.perf_counter()
        # burn_in=0 keeps every sweep, so the traces start at the first one; the model's own
        # drift warning is then expected and says nothing here
        model = rt.models.BayesianPMF(n_samples=n_sweeps, burn_in=0, init=init, random_state=chain)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rt.models.ConvergenceWarning)
            model.fit(train)
        U, V, alpha = model.user_samples_, model.item_samples_, model.alpha_samples_
        residuals = train.values - model.offset_
        sse = np.array(
            [
                np.sum((residuals - np.einsum("kd,kd->k", u[train.users], v[train.items])) ** 2)
                for u, v in zip(U, V)
            ]
        )
        n = len(train)
        traces["log-likelihood"][chain] = 0.5 * n * np.log(alpha / (2 * np.pi)) - 0.5 * alpha * sse
        traces["alpha"][chain] = alpha
        traces["training RMSE"][chain] = model.history_  # what fit's drift check reads
        traces["user scale"][chain] = np.mean(np.sum(U[:, known_users] ** 2, axis=2), axis=1)
        traces["item scale"][chain] = np.mean(np.sum(V[:, known_items] ** 2, axis=2), axis=1)
        traces["predictions"][chain] = np.einsum("skd,skd->sk", U[:, pair_users], V[:, pair_items])
        print(
            f"  chain {chain + 1}/{n_chains}: {n_sweeps} sweeps in "
            f"{time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        del model, U, V
    return traces


def bpmf_burn_in(train: rt.Ratings, n_chains: int, n_sweeps: int, init: str = "random"):
    """Print the diagnostics per candidate burn-in and return (choice or None, n_sweeps needed)."""
    print(
        f"\n## bpmf: {n_chains} chains x {n_sweeps} sweeps, init={init!r}, on the training part "
        "(no validation or test rating used)"
    )
    if init == "map":
        print(
            "  note: MAP starts lie close together, so agreement between these chains is weaker "
            "evidence of mixing than from the dispersed random starts"
        )
    traces = bpmf_chains(train, n_chains, n_sweeps, init)
    scalars = ["log-likelihood", "alpha", "user scale", "item scale"]
    print("  mean over chains of each trace at some sweeps:")
    marks = [
        s for s in (1, 2, 5, 10, 20, 50, 100, 150, 200, 300, 400, 600, 800, 1000) if s <= n_sweeps
    ]
    print("    sweep          " + "".join(f"{s:>12d}" for s in marks))
    for key in scalars:
        values = traces[key].mean(axis=0)[np.array(marks) - 1]
        print(f"    {key:<15s}" + "".join(f"{v:12.6g}" for v in values))
    print(
        f"  split R-hat (rank-normalized) over the sweeps after each candidate burn-in; "
        f"limit {RHAT_LIMIT}; predictions: median / 99th percentile / max over "
        f"{traces['predictions'].shape[2]} pairs; bulk ESS of the predictions (median, min) "
        "and of alpha; the n_samples that gives one chain a bulk ESS of "
        f"{ESS_TARGET}, and the largest single-chain split R-hat of the training RMSE over "
        f"those kept sweeps (what fit warns about above {BURN_IN_RHAT_LIMIT})"
    )
    candidates = list(range(0, max(1, n_sweeps - 2 * BURN_IN_STEP + 1), BURN_IN_STEP))
    choice = None
    for b in candidates:
        rhats = {key: rt.diagnostics.rhat(traces[key][:, b:]) for key in scalars}
        pred = rt.diagnostics.rhat(traces["predictions"][:, b:])
        ess = rt.diagnostics.ess_bulk(traces["predictions"][:, b:])
        ess_alpha = rt.diagnostics.ess_bulk(traces["alpha"][:, b:])
        ess_per_draw = float(np.median(ess)) / (n_chains * (n_sweeps - b))
        n_samples = _round_up(b + np.ceil(ESS_TARGET / max(ess_per_draw, 1e-12)))
        # the default fit runs one chain and warns when its own kept sweeps drift: each
        # chain, cut at this burn-in and n_samples, must pass that check too
        own = (
            max(rt.diagnostics.rhat(h[None, b:n_samples]) for h in traces["training RMSE"])
            if n_samples <= n_sweeps
            else np.inf
        )
        # the overall scale of U against V is weakly identified (U A, V A^-T give the same
        # predictions), so the factor scales are shown but do not decide
        deciding = [rhats["log-likelihood"], rhats["alpha"], np.quantile(pred, 0.99)]
        ok = all(r < RHAT_LIMIT for r in deciding) and own < BURN_IN_RHAT_LIMIT
        if ok and choice is None:
            choice = (b, n_samples, ess_per_draw)
        text = "  ".join(f"{k} {v:.3f}" for k, v in rhats.items())
        print(
            f"    burn-in {b:4d}: {text}  predictions {np.median(pred):.3f}/"
            f"{np.quantile(pred, 0.99):.3f}/{pred.max():.3f}  ESS {np.median(ess):.0f}, "
            f"{ess.min():.0f}; alpha {ess_alpha:.0f}  n_samples {n_samples}: one chain "
            f"{own:.3f}{'  <- first that passes' if ok and choice[0] == b else ''}"
        )
    if choice is None:
        print(
            f"  no candidate passes: the chains have not mixed within {n_sweeps} sweeps; "
            "run longer chains (--bpmf-sweeps)"
        )
        return None, None
    burn_in, n_samples, ess_per_draw = choice
    print(
        f"  choice: burn_in {burn_in}, n_samples {n_samples} ({n_samples - burn_in} kept; "
        f"median bulk ESS per kept draw {ess_per_draw:.2f}, so one chain's expected ESS "
        f"{ess_per_draw * (n_samples - burn_in):.0f} >= {ESS_TARGET})"
    )
    return burn_in, n_samples


def _round_up(n: int) -> int:
    return int(ROUND_TO * np.ceil(n / ROUND_TO))


# ------------------------------------------------------------------ main
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny grids, short chains (smoke test)"
    )
    parser.add_argument(
        "--models", nargs="+", default=None, help="subset of: als sgd gd pmf baseline bpmf"
    )
    parser.add_argument("--bpmf-chains", type=int, default=4)
    parser.add_argument("--bpmf-sweeps", type=int, default=400)
    parser.add_argument(
        "--bpmf-init",
        choices=["random", "map"],
        default="random",
        help="starting point of the chains (the MAP start differs per seed only "
        "through the ALS initialization)",
    )
    args = parser.parse_args(argv)

    plan = searches(args.quick)
    names = args.models or [*plan, "bpmf"]
    unknown = [n for n in names if n not in plan and n != "bpmf"]
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {[*plan, 'bpmf']}")

    ratings = rt.datasets.load_movielens_100k()
    train, _ = rt.model_selection.train_test_split(ratings, 0.2, random_state=0)  # test unused
    fit, val = rt.model_selection.train_test_split(train, 0.2, random_state=1)
    print(
        f"MovieLens 100K: training part {len(train)} ratings -> fitting {len(fit)}, "
        f"validation {len(val)} (train_test_split(train, 0.2, random_state=1))"
    )

    summary = [tune_model(n, *plan[n], fit, val, train) for n in names if n in plan]
    bpmf = None
    if "bpmf" in names:
        chains, sweeps = (2, 30) if args.quick else (args.bpmf_chains, args.bpmf_sweeps)
        bpmf = bpmf_burn_in(train, chains, sweeps, args.bpmf_init)

    print("\n## summary: validation choice against the current default")
    for name, default_params, default_score, best_params, best_score in summary:
        same = {k: v for k, v in best_params.items() if default_params.get(k) == v}
        changed = {k: (default_params.get(k), v) for k, v in best_params.items() if k not in same}
        text = ", ".join(f"{k} {a:g} -> {b:g}" for k, (a, b) in changed.items()) or "unchanged"
        print(
            f"  {name:<9s} default {default_score:.4f}  choice {best_score:.4f}  "
            f"(gain {default_score - best_score:+.4f})  {text}"
        )
    if bpmf is not None:
        defaults = rt.models.BayesianPMF().get_params()
        b, n_samples = bpmf
        choice = "not converged" if b is None else f"burn_in {b}, n_samples {n_samples}"
        print(
            f"  bpmf      default burn_in {defaults['burn_in']}, n_samples "
            f"{defaults['n_samples']}; diagnostics: {choice}"
        )


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")
