"""How a series is watched, as enodo-client's options say it (add, pattern-add)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def param(text: str) -> tuple[str, Any]:
    """KEY=VALUE, the value read as JSON when it parses."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def template_arguments(add: argparse.ArgumentParser) -> None:
    """The options saying how a series is watched (add, pattern-add)."""
    add.add_argument("--model", default=None, help="model name, e.g. arima, prophet")
    add.add_argument("--param", action="append", type=param, default=[], metavar="KEY=VALUE",
                     help="model parameter (VALUE read as JSON when it parses)")
    add.add_argument("--anomaly", action="append", type=param, default=[], metavar="KEY=VALUE",
                     help="anomaly setting: direction, min_deviation, k, n, event_gap")
    add.add_argument("--realtime", action="store_true", help="count points at once")


def template_params(args: argparse.Namespace) -> dict[str, Any]:
    """The add_series body but its name, from --model, --param, --anomaly, --realtime."""
    params: dict[str, Any] = {}
    if args.model is not None:
        params["model"] = int(args.model) if args.model.isdigit() else args.model
    if args.param:
        params["model_parameters"] = dict(args.param)
    if args.anomaly:
        params["anomaly"] = dict(args.anomaly)
    if args.realtime:
        params["realtime"] = True
    return params
