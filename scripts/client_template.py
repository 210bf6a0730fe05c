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


def rule(text: str) -> dict[str, Any]:
    """A rule given as a JSON object (docs/rules.md)."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(
            f'a rule is a JSON object, e.g. {{"kind": "data", "op": "above", "threshold": 90}}'
            f", got {text!r}")
    return value


def template_arguments(add: argparse.ArgumentParser) -> None:
    """The options saying how a series is watched (add, pattern-add)."""
    add.add_argument("--model", default=None, help="model name, e.g. arima, prophet")
    add.add_argument("--param", action="append", type=param, default=[], metavar="KEY=VALUE",
                     help="model parameter (VALUE read as JSON when it parses)")
    add.add_argument("--anomaly", action="append", type=param, default=[], metavar="KEY=VALUE",
                     help="anomaly setting: direction, min_deviation, k, n, event_gap")
    add.add_argument("--realtime", action="store_true", help="count points at once")
    add.add_argument("--rule", action="append", type=rule, default=[], metavar="JSON",
                     help="a data or forecast rule (docs/rules.md); repeat for more")
    add.add_argument("--horizon", default=None,
                     help='forecast steps, or a span such as "6h" (converted with the interval)')


def template_params(args: argparse.Namespace) -> dict[str, Any]:
    """The add_series body but its name, from --model, --param, --anomaly, --realtime,
    --rule and --horizon."""
    params: dict[str, Any] = {}
    if args.model is not None:
        params["model"] = int(args.model) if args.model.isdigit() else args.model
    if args.param:
        params["model_parameters"] = dict(args.param)
    if args.anomaly:
        params["anomaly"] = dict(args.anomaly)
    if args.realtime:
        params["realtime"] = True
    if args.rule:
        params["rules"] = args.rule
    if args.horizon is not None:
        params["horizon"] = int(args.horizon) if args.horizon.isdigit() else args.horizon
    return params
