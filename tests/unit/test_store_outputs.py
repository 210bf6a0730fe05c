"""Outputs and model states are replaced in place: the newest is read back, once per key."""

from __future__ import annotations

from actors.hub.store import Store


def test_outputs_and_models_keep_the_newest_value_per_key(tmp_path):
    store = Store(str(tmp_path))
    store.put_output("s", "forecast", {"v": 1})
    store.put_output("s", "detector", {"d": 1})
    store.put_output("s", "forecast", {"v": 2})
    store.put_model("s", {"m": 1})
    store.put_model("s", {"m": 2})
    store.commit()
    assert store.get_output("s", "forecast") == {"v": 2}
    assert store.get_output("s", "detector") == {"d": 1}
    assert store.get_model("s") == {"m": 2}
    rows = store.db.execute("SELECT COUNT(*) FROM outputs WHERE name = 's'").fetchone()[0]
    assert rows == 2
    store.put_model("s", None)
    store.commit()
    assert store.get_model("s") is None
    store.put_model("s", {"m": 3})
    store.close()
    again = Store(str(tmp_path))
    assert again.get_model("s") == {"m": 3} and again.get_output("s", "forecast") == {"v": 2}
