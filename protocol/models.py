"""The model catalogue as data: names, legacy ids, and each model's parameters and bounds.

No numerics here: the hub checks a series' model and parameters from this table without
importing a model class or numpy; the worker's model classes take their `parameters` from
it (actors/worker/models), and a test holds the two lists of names equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

#: The models a series may use; the default chooses per series by backtest.
MODEL_NAMES = ("arima", "prophet", "ets", "theta", "ces", "seasonal_naive", "auto")
#: Numeric ids of the original system.
LEGACY_MODEL_IDS: dict[int, str] = {1: "arima", 2: "prophet"}
#: The single models the auto model may compare or combine.
SINGLE = ("seasonal_naive", "theta", "ets", "ces", "arima", "prophet")
COMBINATION = "combination"
#: How the combination's members' forecasts are combined, step by step.
AGGREGATES = ("mean", "median")
TIME_PRECISIONS = ("s", "ms", "us", "ns")
DEFAULT_MAX_GAP_STEPS = 10
DEFAULT_MAX_PERIOD = 500


class UnknownModel(ValueError):
    """No model has this name or legacy id."""


class Param(msgspec.Struct, frozen=True, kw_only=True):
    """One parameter: kind ("int", "float", "str", "int_list"), default, and its bounds."""

    kind: str
    default: Any = None
    nullable: bool = False
    ge: float | None = None              # numbers: at least
    le: float | None = None              # numbers: at most
    choices: tuple[str, ...] = ()        # str: one of these
    names: tuple[str, ...] = ()          # str: comma-separated names, each one of these
    letters: tuple[str, ...] = ()        # str: one letter from each string, in order
    items: tuple[tuple[int, int], ...] = ()  # int_list: exactly these bounds, item by item
    rule: str = ""                       # the complaint when letters or items do not fit
    doc: str = ""

    def problem(self, value: Any) -> str | None:
        """Why a value of the right kind breaks this parameter's bounds, or None."""
        if self.ge is not None and self.le is not None and not self.ge <= value <= self.le:
            return f"must be between {self.ge} and {self.le}"
        if self.ge is not None and self.le is None and value < self.ge:
            return f"must be >= {self.ge}"
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        if self.names:
            bad = [v for v in (n.strip() for n in value.split(",")) if v and v not in self.names]
            if bad:
                return f"unknown model {bad[0]!r} (known: {', '.join(self.names)})"
        if self.letters and not (len(value) == len(self.letters) and all(
                ch in allowed for ch, allowed in zip(value, self.letters, strict=True))):
            return self.rule
        if self.items and not (len(value) == len(self.items) and all(
                lo <= v <= hi for v, (lo, hi) in zip(value, self.items, strict=True))):
            return self.rule
        return None


def _int(default: Any, ge: float | None = None, le: float | None = None, doc: str = "",
         nullable: bool = False) -> Param:
    return Param(kind="int", default=default, ge=ge, le=le, doc=doc, nullable=nullable)


def _float(default: float, ge: float, le: float, doc: str = "") -> Param:
    return Param(kind="float", default=default, ge=ge, le=le, doc=doc)


def _str(default: str, choices: tuple[str, ...], doc: str = "") -> Param:
    return Param(kind="str", default=default, choices=choices, doc=doc)


COMMON_PARAMETERS: dict[str, Param] = {
    "seasonal_period": _int(
        None, ge=0, nullable=True,
        doc="season length in steps; null detects it from the data, 0 disables seasonality"),
    "max_seasonal_period": _int(DEFAULT_MAX_PERIOD, ge=2, doc="longest period detection considers"),
    "fourier_terms": _int(None, ge=1, le=50, nullable=True,
                          doc="harmonics of the seasonal period; null chooses"),
    "max_train_points": _int(5000, ge=20, doc="most recent grid points used to train and fit"),
    "max_gap_steps": _int(
        DEFAULT_MAX_GAP_STEPS, ge=0,
        doc="longest run of missing steps interpolated; history before a longer gap is dropped"),
    "time_precision": _str("ms", TIME_PRECISIONS, doc="unit of the series' integer timestamps"),
}


def _model(**own: Param) -> dict[str, Param]:
    return {**COMMON_PARAMETERS, **own}


PARAMETERS: dict[str, dict[str, Param]] = {
    "arima": _model(
        max_train_points=_int(3000, ge=20),
        order=Param(kind="int_list", nullable=True, items=((0, 5), (0, 2), (0, 5)),
                    rule="must be [p, d, q] with p, q in 0..5 and d in 0..2",
                    doc="fixed [p, d, q]; null searches"),
        max_p=_int(3, ge=0, le=5), max_d=_int(2, ge=0, le=2), max_q=_int(3, ge=0, le=5),
        criterion=_str("aicc", ("aicc", "aic", "bic")),
        fit_iterations=_int(5, ge=0, le=200,
                            doc="optimiser iterations for fit (warm-started); 0 keeps the "
                                "ARMA coefficients and re-estimates only the rest"),
    ),
    "prophet": _model(
        growth=_str("linear", ("linear", "flat")),
        n_changepoints=_int(25, ge=0, le=200),
        changepoint_range=_float(0.8, 0.05, 1.0),
        changepoint_prior_scale=_float(0.05, 1e-6, 1e3),
        seasonality_prior_scale=_float(10.0, 1e-6, 1e3),
        seasonality_mode=_str("additive", ("additive", "multiplicative")),
        uncertainty_samples=_int(100, ge=10, le=1000),
        max_train_points=_int(5000, ge=10),
        fit_iterations=_int(100, ge=10, le=10_000,
                            doc="optimiser iterations for fit (warm-started); train converges"),
    ),
    "ets": _model(
        max_train_points=_int(2000, ge=8),
        spec=Param(kind="str", default="ZZZ", letters=("AMZ", "ANMZ", "ANMZ"),
                   rule="must be three letters: error A/M/Z, trend N/A/M/Z, season N/A/M/Z",
                   doc="error, trend, season: A additive, M multiplicative, N none, Z choose"),
        damped=_str("auto", ("auto", "yes", "no"), doc="damped trend: auto chooses by AICc"),
    ),
    "theta": _model(
        max_train_points=_int(1000, ge=8),
        variant=_str("DOTM", ("auto", "STM", "OTM", "DSTM", "DOTM"),
                     doc="STM standard, OTM optimised, D* dynamic; auto chooses by in-sample "
                         "MSE (DOTM, the default, forecasts better on M3: docs/models.md)"),
        decomposition=_str("multiplicative", ("multiplicative", "additive"),
                           doc="classical decomposition for a short period (additive when "
                               "the data are not all positive)"),
    ),
    "ces": _model(
        max_train_points=_int(1000, ge=8),
        season=_str("auto", ("auto", "N", "S", "P", "F"),
                    doc="season type: N none, S simple, P partial, F full; auto chooses by AICc"),
    ),
    "seasonal_naive": _model(max_train_points=_int(5000, ge=8)),
    "auto": _model(
        max_train_points=_int(2000, ge=8),
        candidates=Param(kind="str", default=COMBINATION,
                         names=(*SINGLE, COMBINATION),
                         doc="models compared by the backtest (comma-separated); the default, "
                             "the combination alone, is backtested only for the accuracy report"),
        combine=Param(kind="str", default="theta,ets,ces,seasonal_naive", names=SINGLE,
                      doc="members of the candidate 'combination'"),
        combine_with=_str("median", AGGREGATES,
                          doc="how the members' forecasts (means and bounds) are combined, "
                              "step by step"),
        combination_margin=_float(0.5, 0.0, 10.0,
                                  doc="the combination is kept unless a single model's MASE "
                                      "times (1 + margin) is below it"),
        backtest_horizon=_int(None, ge=1, le=10_000, nullable=True,
                              doc="steps forecast from each origin; null: one season, at least 6"),
        backtest_origins=_int(3, ge=1, le=20),
        backtest_points=_int(600, ge=20,
                             doc="most recent points the backtest trains on (bounds its cost)"),
        backtest_level=_float(0.95, 0.5, 0.999,
                              doc="interval level whose coverage the backtest reports"),
    ),
}


def resolve_model_name(name: str | int) -> str:
    """Canonical model name for a name or a legacy numeric id ("2" too); UnknownModel otherwise."""
    if isinstance(name, bool) or not isinstance(name, str | int):
        raise UnknownModel(f"unknown model {name!r}")
    key: str | int = name
    if isinstance(name, str):
        key = int(name.strip()) if name.strip().isdigit() else name.strip().lower()
    if isinstance(key, int):
        if key not in LEGACY_MODEL_IDS:
            raise UnknownModel(f"unknown model id {key} (known: {sorted(LEGACY_MODEL_IDS)})")
        return LEGACY_MODEL_IDS[key]
    if key not in PARAMETERS:
        raise UnknownModel(f"unknown model {name!r} (known: {', '.join(sorted(PARAMETERS))})")
    return key


def _coerce(key: str, spec: Param, value: Any) -> Any:
    if value is None:
        if spec.nullable:
            return None
        raise ValueError(f"parameter {key!r}: must not be null")
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"parameter {key!r}: expected an integer, got {type(value).__name__}")
    elif spec.kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"parameter {key!r}: expected a number, got {type(value).__name__}")
        value = float(value)
    elif spec.kind == "str":
        if not isinstance(value, str):
            raise ValueError(f"parameter {key!r}: expected a string, got {type(value).__name__}")
    elif spec.kind == "int_list":
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise ValueError(f"parameter {key!r}: expected a list of integers")
        value = [int(v) for v in value]
    complaint = spec.problem(value)
    if complaint:
        raise ValueError(f"parameter {key!r}: {complaint} (got {value!r})")
    return value


def check_parameters(specs: Mapping[str, Param], params: Mapping[str, Any] | None) -> dict:
    """Validated copy of params with defaults filled; ValueError names the offending key."""
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ValueError(f"model parameters must be an object, got {type(params).__name__}")
    unknown = sorted(str(k) for k in params if k not in specs)
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(specs))})")
    return {key: _coerce(key, spec, params.get(key, spec.default)) for key, spec in specs.items()}


def validate_parameters(name: str | int, params: Mapping[str, Any] | None) -> dict:
    """Checked parameters of a model with defaults filled; ValueError names the bad key."""
    return check_parameters(PARAMETERS[resolve_model_name(name)], params)


def describe_parameters(name: str | int) -> dict[str, dict]:
    """Each parameter's kind, default and description, e.g. for an API listing."""
    specs = PARAMETERS[resolve_model_name(name)]
    return {
        key: {"kind": p.kind, "default": p.default, "nullable": p.nullable, "doc": p.doc}
        for key, p in specs.items()
    }
