"""The numerical core of the ARIMA model (see arima.py): everything that needs statsmodels.

The series is split into a deterministic part (constant or drift, plus Fourier terms for the
seasonal period) estimated by least squares on the d-th difference, and ARMA errors around it.
ARMA orders are ranked by an information criterion with Hannan-Rissanen estimates (a regression,
milliseconds each) and the exact Kalman-filter likelihood; only the best few get a full MLE.
Forecasts start from a stored Kalman filter state (`finish`, `predict_from_state`).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
from statsmodels.tsa.arima.estimators.hannan_rissanen import hannan_rissanen
from statsmodels.tsa.statespace.sarimax import SARIMAX
from statsmodels.tsa.statespace.tools import is_invertible
from statsmodels.tsa.stattools import kpss

from actors.worker.series_prep import fourier_terms

MAX_AUTO_FOURIER = 10
KPSS_ALPHA = 0.05
MLE_FINALISTS = 2
TRAIN_MAXITER = 50


@dataclass(frozen=True)
class Deterministic:
    """Trend ("c" constant, "t" drift per step, "n" none) and Fourier coefficients."""

    period: int
    fourier_order: int
    trend: str
    trend_params: list[float]
    fourier_params: list[float]

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """Value of the deterministic part at step indices t."""
        t = np.asarray(t, dtype=np.float64)
        out = np.zeros(len(t))
        if self.trend == "c":
            out += self.trend_params[0]
        elif self.trend == "t":
            out += self.trend_params[0] * t
        if self.fourier_order:
            out += fourier_terms(t, self.period, self.fourier_order) @ np.asarray(
                self.fourier_params
            )
        return out


@dataclass(frozen=True)
class ArmaFit:
    """Estimated ARMA(p, q) errors: coefficients, innovation variance, log-likelihood."""

    p: int
    q: int
    ar: list[float]
    ma: list[float]
    sigma2: float
    llf: float

    @property
    def params(self) -> np.ndarray:
        """Parameter vector in SARIMAX order: ar, ma, sigma2."""
        return np.r_[self.ar, self.ma, self.sigma2]


def _lstsq(design: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float]:
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    resid = target - design @ coef
    return coef, float(resid @ resid)


def choose_fourier_order(y: np.ndarray, t: np.ndarray, period: int) -> int:
    """Harmonics (1..10, at most period/2) minimising BIC of y ~ 1 + t + Fourier."""
    n = len(y)
    base = np.column_stack([np.ones(n), t])
    best_k, best_bic = 1, np.inf
    for k in range(1, max(1, min(MAX_AUTO_FOURIER, period // 2, (n - 4) // 4)) + 1):
        design = np.column_stack([base, fourier_terms(t, period, k)])
        _, rss = _lstsq(design, y)
        bic = n * np.log(max(rss, 1e-300) / n) + design.shape[1] * np.log(n)
        if bic < best_bic:
            best_k, best_bic = k, bic
    return best_k


def choose_differencing(y: np.ndarray, fourier: np.ndarray, max_d: int) -> int:
    """Number of differences (KPSS at 5%, after removing the seasonal terms), up to max_d."""
    design = np.column_stack([np.ones(len(y)), fourier])
    coef, _ = _lstsq(design, y)
    x = y - design @ coef
    d = 0
    while d < max_d and len(x) > 10 and np.ptp(x) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # p-value outside the table: the bound is fine
            pvalue = kpss(x, regression="c", nlags="auto", result_object=True).pvalue
        if pvalue >= KPSS_ALPHA:
            break
        d += 1
        x = np.diff(x)
    return d


def fit_deterministic(
    y: np.ndarray, t: np.ndarray, period: int, fourier_order: int, d: int
) -> Deterministic:
    """Least squares on the d-th difference: constant (d=0) or drift (d=1), plus Fourier terms."""
    fourier = fourier_terms(t, period, fourier_order)
    target = np.diff(y, d)
    columns = np.diff(fourier, d, axis=0)
    trend = {0: "c", 1: "t"}.get(d, "n")
    if trend != "n":
        columns = np.column_stack([np.ones(len(target)), columns])
    coef, _ = _lstsq(columns, target) if columns.shape[1] else (np.empty(0), 0.0)
    n_trend = 0 if trend == "n" else 1
    return Deterministic(
        period=period,
        fourier_order=fourier_order,
        trend=trend,
        trend_params=[float(c) for c in coef[:n_trend]],
        fourier_params=[float(c) for c in coef[n_trend:]],
    )


def _arma_model(z: np.ndarray, p: int, q: int, concentrate: bool) -> SARIMAX:
    return SARIMAX(z, order=(p, 0, q), trend="n", concentrate_scale=concentrate)


def _admissible(ar: np.ndarray, ma: np.ndarray) -> bool:
    return bool(is_invertible(np.r_[1.0, -ar]) and is_invertible(np.r_[1.0, ma]))


def criterion(llf: float, n_params: int, n_obs: int, name: str) -> float:
    """AIC, AICc or BIC from a log-likelihood."""
    aic = -2.0 * llf + 2.0 * n_params
    if name == "aic":
        return aic
    if name == "bic":
        return -2.0 * llf + n_params * np.log(n_obs)
    return aic + 2.0 * n_params * (n_params + 1) / max(n_obs - n_params - 1, 1)


def quick_arma(z: np.ndarray, p: int, q: int) -> ArmaFit | None:
    """Hannan-Rissanen estimate with its exact likelihood; None when inadmissible or failing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est, _ = hannan_rissanen(z, ar_order=p, ma_order=q, demean=False)
            ar, ma = np.asarray(est.ar_params, float), np.asarray(est.ma_params, float)
            if not _admissible(ar, ma):
                return None
            llf = float(_arma_model(z, p, q, concentrate=True).loglike(np.r_[ar, ma]))
    except (ValueError, np.linalg.LinAlgError):
        return None
    if not np.isfinite(llf):
        return None
    return ArmaFit(p, q, ar.tolist(), ma.tolist(), float(est.sigma2), llf)


def mle_arma(z: np.ndarray, start: ArmaFit, maxiter: int) -> ArmaFit:
    """Exact MLE of ARMA(p, q) from start's coefficients; start's if the optimum is no better.

    The variance is concentrated out of the likelihood (fewer, better scaled parameters); the
    result keeps start's sigma2 until `finish` estimates it.
    """
    model = _arma_model(z, start.p, start.q, concentrate=True)
    begin = np.r_[start.ar, start.ma]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            begin_llf = float(model.loglike(begin))
            params = begin
            if len(begin) and maxiter > 0:
                params = model.fit(
                    start_params=begin, disp=False, maxiter=maxiter, return_params=True
                )
            llf = float(model.loglike(params))
            if not np.isfinite(llf) or (np.isfinite(begin_llf) and llf < begin_llf):
                params, llf = begin, begin_llf
    except (ValueError, np.linalg.LinAlgError):
        return start
    p = start.p
    return ArmaFit(start.p, start.q, params[:p].tolist(), params[p:].tolist(), start.sigma2, llf)


def refit_arma(z: np.ndarray, previous: ArmaFit, maxiter: int) -> ArmaFit:
    """Re-estimate a fixed order on new data, warm-started from the previous parameters."""
    refit = mle_arma(z, previous, maxiter)
    if np.isfinite(refit.llf):
        return refit
    quick = quick_arma(z, previous.p, previous.q)
    return mle_arma(z, quick, maxiter) if quick is not None else previous


def fixed_arma(z: np.ndarray, p: int, q: int, crit: str) -> tuple[ArmaFit, float]:
    """MLE of a given ARMA(p, q) for z, and its criterion value."""
    start = quick_arma(z, p, q) or ArmaFit(p, q, [0.0] * p, [0.0] * q, float(np.var(z)), -np.inf)
    fit = mle_arma(z, start, TRAIN_MAXITER)
    return fit, criterion(fit.llf, p + q + 1, len(z), crit)


def select_arma(z: np.ndarray, max_p: int, max_q: int, crit: str) -> tuple[ArmaFit, float]:
    """Best ARMA(p, q) for z over the grid by the criterion; returns it and its criterion value."""
    n = len(z)

    def score(fit: ArmaFit) -> float:
        return criterion(fit.llf, fit.p + fit.q + 1, n, crit)

    quick = [
        fit
        for p in range(max_p + 1)
        for q in range(max_q + 1)
        if p + q + 2 < n // 2 and (fit := quick_arma(z, p, q)) is not None
    ]
    if not quick:
        white = ArmaFit(0, 0, [], [], float(np.var(z)) or 1e-12, -np.inf)
        return white, np.inf
    quick.sort(key=score)
    finalists = [mle_arma(z, fit, TRAIN_MAXITER) for fit in quick[:MLE_FINALISTS]]
    best = min(finalists, key=score)
    return best, score(best)


def finish(resid: np.ndarray, d: int, arma: ArmaFit) -> tuple[ArmaFit, dict]:
    """Innovation variance and the filter state after the last residual, from one filter pass.

    The filter state is the Kalman filter's predicted state (mean, covariance) for the next step.
    With the variance concentrated out, the state mean does not depend on it, and statsmodels
    scales the covariance by the estimate.
    """
    model = SARIMAX(resid, order=(arma.p, d, arma.q), trend="n", concentrate_scale=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.filter(np.r_[arma.ar, arma.ma])
    sigma2 = float(result.scale)
    if not np.isfinite(sigma2) or sigma2 <= 0:
        sigma2 = max(float(np.var(np.diff(resid, d))), 1e-12)
    state = {
        "mean": [float(v) for v in result.predicted_state[:, -1]],
        "cov": [[float(v) for v in row] for row in result.predicted_state_cov[:, :, -1]],
    }
    return dataclasses.replace(arma, sigma2=sigma2), state


def predict_from_state(
    arma: ArmaFit, d: int, state: dict, horizon: int, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, lower, upper of the ARIMA errors for `horizon` steps after a stored filter state.

    The model is rebuilt on `horizon` missing observations, initialised with the known state;
    statsmodels' predictions for them equal get_forecast after the full history. ValueError when
    the state does not fit the order.
    """
    model = SARIMAX(np.full(horizon, np.nan), order=(arma.p, d, arma.q), trend="n")
    params = arma.params
    if len(params) != len(model.param_names):
        raise ValueError(f"{len(params)} parameters for order {arma.p, d, arma.q}")
    try:
        model.initialize_known(
            np.asarray(state["mean"], dtype=np.float64), np.asarray(state["cov"], dtype=np.float64)
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"filter state malformed: {exc!r}") from None
    predicted = model.filter(params).get_prediction()
    interval = np.asarray(predicted.conf_int(alpha=1.0 - level))
    return np.asarray(predicted.predicted_mean), interval[:, 0], interval[:, 1]
