"""Convergence diagnostics for Markov chain Monte Carlo: split R-hat and effective sample size.

The definitions are those of Vehtari, Gelman, Simpson, Carpenter and Bürkner,
"Rank-normalization, folding, and localization: an improved :math:`\\widehat R`
for assessing convergence of MCMC", *Bayesian Analysis* 16(2), 2021.  Every
function takes draws shaped ``(n_chains, n_draws)`` or ``(n_chains, n_draws,
...)`` and works on each trailing entry separately (one call diagnoses every
held-out prediction or every hyperparameter at once), returning an array of
the trailing shape (a float for 2-D input).

**Split chains.**  Each chain is cut into its first and second half (the
middle draw of an odd-length chain is dropped), so :math:`M` chains of
:math:`2N` draws become :math:`2M` chains of :math:`N`: a chain that drifts
then disagrees with itself, which the between-chain variance sees.

**Potential scale reduction.**  With :math:`\\bar\\theta_m` and :math:`s_m^2`
the mean and (``ddof=1``) variance of chain :math:`m`, :math:`\\bar\\theta` the
mean of the chain means,

.. math::

    B = \\frac{N}{M - 1} \\sum_m (\\bar\\theta_m - \\bar\\theta)^2, \\qquad
    W = \\frac1M \\sum_m s_m^2, \\qquad
    \\widehat{\\operatorname{var}}^+ = \\frac{N - 1}{N} W + \\frac1N B, \\qquad
    \\widehat R = \\sqrt{\\widehat{\\operatorname{var}}^+ / W}

(:func:`split_rhat`).  :func:`rhat` applies it to *rank-normalized* draws
(ranks :math:`r` over all chains pooled, mapped to
:math:`z = \\Phi^{-1}((r - 3/8) / (S + 1/4))`, :math:`S` the number of draws),
which makes it meaningful for heavy tails, and to the rank-normalized
*folded* draws :math:`|\\theta - \\operatorname{median}(\\theta)|`, which
detect chains that agree in location but not in scale; it reports the larger.

**Effective sample size.**  With :math:`\\hat\\rho_{m,t}` the lag-:math:`t`
autocorrelation of chain :math:`m` (autocovariance divided by :math:`N`), the
combined autocorrelation is :math:`\\hat\\rho_t = 1 - (W - \\frac1M \\sum_m s_m^2
\\hat\\rho_{m,t}) / \\widehat{\\operatorname{var}}^+`,
and :math:`S_{\\text{eff}} = MN / \\hat\\tau` with
:math:`\\hat\\tau = -1 + 2 \\sum_{k=0}^{K} P_k`, where
:math:`P_k = \\hat\\rho_{2k} + \\hat\\rho_{2k+1}` are summed while they stay
positive (Geyer's initial positive sequence) and made non-increasing (initial
monotone sequence).  For a stationary AR(1) chain with coefficient
:math:`\\rho`, :math:`\\tau = (1 + \\rho)/(1 - \\rho)`.  :func:`ess_bulk` is
this on rank-normalized split chains; :func:`ess_tail` the smaller of the
values for the indicators :math:`I(\\theta \\le q_{0.05})` and
:math:`I(\\theta \\le q_{0.95})`, i.e. how well the 5 % and 95 % quantiles are
estimated.  As ArviZ does, :math:`\\hat\\tau` is floored at :math:`1/\\log_{10}(MN)` so
that antithetic chains cannot report an unbounded size; unlike ArviZ, no
term beyond the last positive pair is added, so the two can differ slightly
for strongly autocorrelated chains.

Quantities that do not vary at all (every draw of an entry equal) have no
defined R-hat or ESS: their entries are ``nan``, the one case where these
functions return it.  Vehtari et al. recommend using at least 4 chains, and
trusting the estimates when :math:`\\widehat R < 1.01` and the bulk and tail
ESS exceed about 100 per chain.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

__all__ = [
    "ess",
    "ess_bulk",
    "ess_tail",
    "rank_normalize",
    "rhat",
    "split_chains",
    "split_rhat",
]


def _check_draws(draws) -> np.ndarray:
    """Draws as a float array of shape (n_chains, n_draws, ...) or an error naming what is wrong."""
    arr = np.asarray(draws)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.integer)
        or np.issubdtype(arr.dtype, np.floating)
        or arr.dtype == bool
    ):
        raise TypeError(f"draws must be a real numeric array; got dtype {arr.dtype}")
    if arr.ndim < 2:
        raise ValueError(
            f"draws must have shape (n_chains, n_draws, ...); got {arr.ndim}-D shape {arr.shape}"
        )
    if arr.shape[0] < 1:
        raise ValueError("draws has no chain (n_chains = 0)")
    if arr.shape[1] < 4:
        raise ValueError(
            f"draws needs at least 4 draws per chain (two per half after splitting); "
            f"got n_draws = {arr.shape[1]}"
        )
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError("draws contains NaN or infinite values")
    return arr


def _scalar_or_array(x: np.ndarray):
    return float(x) if x.ndim == 0 else x


def split_chains(draws) -> np.ndarray:
    """Cut each chain into its two halves: ``(M, N, ...)`` -> ``(2M, N // 2, ...)``.

    For odd ``N`` the middle draw is dropped, so both halves have equal length.
    """
    x = _check_draws(draws)
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half :]], axis=0)


def rank_normalize(draws) -> np.ndarray:
    """Normal scores of the pooled ranks, :math:`\\Phi^{-1}((r - 3/8)/(S + 1/4))`, same shape.

    Ranks are taken over all chains and draws together (ties get their average
    rank), separately for each trailing entry.
    """
    x = _check_draws(draws)
    pooled = x.reshape(x.shape[0] * x.shape[1], -1)
    ranks = stats.rankdata(pooled, method="average", axis=0)
    z = special.ndtri((ranks - 0.375) / (pooled.shape[0] + 0.25))
    return z.reshape(x.shape)


def _variances(x: np.ndarray):
    """Chain means, W and var+ of (already split) draws ``x`` of shape (M, N, ...)."""
    n = x.shape[1]
    chain_means = x.mean(axis=1)
    within = x.var(axis=1, ddof=1).mean(axis=0)
    between_over_n = chain_means.var(axis=0, ddof=1) if x.shape[0] > 1 else 0.0
    var_plus = (n - 1) / n * within + between_over_n
    return within, var_plus


def _rhat_of_chains(x: np.ndarray) -> np.ndarray:
    within, var_plus = _variances(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a constant entry gives 0/0 = nan (documented); distinct constant chains give inf
        return np.sqrt(var_plus / within)


def split_rhat(draws):
    """Split :math:`\\widehat R` of the draws as given (no rank normalization).

    Parameters
    ----------
    draws : array_like, shape (n_chains, n_draws, ...)

    Returns
    -------
    float or ndarray of the trailing shape
        About 1 for chains that have mixed; well above 1 when chains (or the two
        halves of a chain) disagree.  See the module docstring for the formula.
    """
    return _scalar_or_array(_rhat_of_chains(split_chains(draws)))


def _folded(x: np.ndarray) -> np.ndarray:
    pooled = x.reshape(x.shape[0] * x.shape[1], -1)
    median = np.median(pooled, axis=0).reshape(x.shape[2:])
    return np.abs(x - median)


def rhat(draws):
    """Rank-normalized split :math:`\\widehat R` (Vehtari et al. 2021): max of bulk and folded.

    Parameters
    ----------
    draws : array_like, shape (n_chains, n_draws, ...)

    Returns
    -------
    float or ndarray of the trailing shape
        :math:`\\max(\\widehat R_{\\text{bulk}}, \\widehat R_{\\text{folded}})`, where the
        bulk value is :func:`split_rhat` of the rank-normalized draws and the
        folded value that of the rank-normalized :math:`|\\theta - \\operatorname{median}|`.
    """
    x = _check_draws(draws)
    bulk = _rhat_of_chains(split_chains(rank_normalize(x)))
    folded = _rhat_of_chains(split_chains(rank_normalize(_folded(x))))
    # fmax: a folded value that is undefined (|theta - median| constant) leaves the bulk one;
    # a constant entry has both undefined and stays nan
    return _scalar_or_array(np.fmax(bulk, folded))


def _autocovariance(x: np.ndarray) -> np.ndarray:
    """Lag-t autocovariance of each chain along axis 1, divided by N (the biased estimate)."""
    n = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    size = 1 << int(2 * n - 1).bit_length()  # zero padding: circular = linear correlation
    spectrum = np.fft.rfft(centred, n=size, axis=1)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=1)
    return np.take(acov, np.arange(n), axis=1) / n


def _ess_of_chains(x: np.ndarray) -> np.ndarray:
    """ESS of draws ``x`` shaped (M, N, ...) taken as they are (the caller splits them)."""
    m, n = x.shape[:2]
    within, var_plus = _variances(x)
    acov = _autocovariance(x)  # (M, N, ...)
    # rho_t = 1 - (W - mean_m of s_m^2 rho_{m,t}) / var+, and s_m^2 rho_{m,t} = acov_t N / (N - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (within - acov.mean(axis=0) * n / (n - 1)) / var_plus  # (N, ...)
    n_pairs = n // 2
    pairs = rho[0 : 2 * n_pairs : 2] + rho[1 : 2 * n_pairs : 2]  # P_k, (n_pairs, ...)
    # initial positive sequence: keep P_k up to (not including) the first negative one
    positive = np.cumprod(pairs >= 0, axis=0).astype(bool)
    # initial monotone sequence: each kept P_k no larger than the ones before it
    monotone = np.minimum.accumulate(np.where(positive, pairs, 0.0), axis=0)
    tau = -1.0 + 2.0 * np.sum(np.where(positive, monotone, 0.0), axis=0)
    tau = np.fmax(tau, 1.0 / np.log10(m * n))
    out = m * n / tau
    constant = ~(var_plus > 0)
    return np.where(constant, np.nan, out)


def ess(draws):
    """Effective sample size of the mean of the draws as given (split chains, no ranks).

    Parameters
    ----------
    draws : array_like, shape (n_chains, n_draws, ...)

    Returns
    -------
    float or ndarray of the trailing shape
        :math:`MN/\\hat\\tau`; for :math:`M` stationary AR(1) chains of length
        :math:`N` with coefficient :math:`\\rho`, about :math:`MN(1 - \\rho)/(1 + \\rho)`.
    """
    return _scalar_or_array(_ess_of_chains(split_chains(draws)))


def ess_bulk(draws):
    """Bulk effective sample size: :func:`ess` of the rank-normalized draws.

    It measures how well the centre of the distribution (mean, median) is
    estimated, and is defined even when the draws have no finite variance.
    """
    return _scalar_or_array(_ess_of_chains(split_chains(rank_normalize(draws))))


def ess_tail(draws):
    """Tail effective sample size: the smaller ESS of the 5 % and 95 % quantile indicators.

    For :math:`q` the pooled 5 % (95 %) quantile of each entry, the draws
    :math:`I(\\theta \\le q)` are a chain whose mean is 0.05 (0.95); their
    :func:`ess` says how precisely the chains locate that quantile.
    """
    x = _check_draws(draws)
    pooled = x.reshape(x.shape[0] * x.shape[1], -1)
    sizes = []
    for prob in (0.05, 0.95):
        q = np.quantile(pooled, prob, axis=0).reshape(x.shape[2:])
        sizes.append(_ess_of_chains(split_chains((x <= q).astype(float))))
    return _scalar_or_array(np.fmin(sizes[0], sizes[1]))
