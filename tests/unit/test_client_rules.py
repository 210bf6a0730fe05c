"""enodo-client's rules: `add --rule/--horizon` and `rules NAME [JSON ...]` send the actions
the REST API's POST /series and PUT /series/{name}/rules send."""

from __future__ import annotations

import pytest

from protocol.envelope import Message
from protocol.types import MessageType
from scripts.client import build_parser
from scripts.client_commands import action_of
from scripts.client_format import update_line

HOT = '{"kind": "data", "op": "above", "threshold": 90}'


def parsed(*argv: str):
    return build_parser().parse_args(list(argv))


def test_add_with_rules_and_a_horizon():
    action, params = action_of(parsed("add", "disk", "--rule", HOT, "--horizon", "6h"))
    assert action == "add_series"
    assert params == {"name": "disk", "horizon": "6h",
                      "rules": [{"kind": "data", "op": "above", "threshold": 90}]}
    assert action_of(parsed("add", "disk", "--horizon", "48"))[1]["horizon"] == 48


def test_rules_replaces_or_clears():
    assert action_of(parsed("rules", "disk", HOT, HOT)) == (
        "set_rules", {"name": "disk", "rules": [{"kind": "data", "op": "above",
                                                 "threshold": 90}] * 2})
    assert action_of(parsed("rules", "disk")) == ("set_rules", {"name": "disk", "rules": []})


def test_rules_carry_their_holds_as_given():
    held = '{"kind": "forecast", "op": "above", "threshold": 95, "within": "7d", ' \
           '"for_seconds": "30m", "keep_firing_for": 7200}'
    _, params = action_of(parsed("rules", "disk", held))
    assert params["rules"][0]["for_seconds"] == "30m"
    assert params["rules"][0]["keep_firing_for"] == 7200


@pytest.mark.parametrize("bad", ["[1]", "above 90", "7"])
def test_a_rule_must_be_a_json_object(bad, capsys):
    with pytest.raises(SystemExit):
        parsed("rules", "disk", bad)
    assert "a rule is a JSON object" in capsys.readouterr().err


def test_watch_shows_rule_states_one_line():
    msg = Message(MessageType.SERIES_UPDATE, {"name": "disk", "event": "rules", "data": {
        "rule_states": {"full": {"status": "firing", "crossing_at": 1_736_327_092_402},
                        "high": {"status": "ok"}}}})
    line = update_line(msg, now=0.0)
    assert line.endswith("disk rules full firing crossing 2025-01-08 09:04; high ok")
