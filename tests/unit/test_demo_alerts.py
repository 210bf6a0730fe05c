"""The demo's alert receiver: registered as the hub's webhook output, it gets the anomaly
alert of the planted CPU spike (found by the worker's real job code) and writes it down."""

from __future__ import annotations

import json
import time

from protocol.types import MessageType
from scripts.demo_alerts import start_receiver
from scripts.demo_data import INCIDENTS, SENSOR_HISTORY, SENSORS, sensor_ts
from tests.api.state_hub import StateHub
from tests.support.demo_pipeline import run_sensor
from tests.support.hub_state import FakeJobs, counts, make_state, result, worker
from tests.support.waiting import wait_for
from tests.unit.test_demo_incidents import LIVE


def test_the_planted_cpu_spike_arrives_at_the_demo_receiver(tmp_path, clock):
    state = make_state(tmp_path / "hub", clock=clock, alerts=True)
    jobs = FakeJobs(state)
    scheduler = state.scheduler
    state.settings.update(min_data_points=100, fit_every=10)  # a cold-start forecast job
    hub = StateHub(state)
    path = tmp_path / "alerts-received.jsonl"
    receiver = start_receiver(hub, path)
    try:
        sensor = next(s for s in SENSORS if s.name == "demo.cpu")
        hub.request("add_series", {"name": sensor.name, "model": sensor.model})
        worker(state)
        events = list(run_sensor(sensor, LIVE).events.values())
        spike = next(i for i in INCIDENTS if i.series == "demo.cpu")
        spike_ts = sensor_ts(SENSOR_HISTORY + spike.start)
        assert any(e["start"] <= spike_ts <= e["end"] for e in events)
        counts(state, 20, sensor.name)
        scheduler.dispatch(clock.now)
        scheduler.on_result(result(jobs.sent[-1], MessageType.JOB_RESULT, result={
            "kind": "forecast", "forecast": None, "anomalies": [],
            "events": events}))
        for _ in range(2):  # the loop's turns: recorded, committed, handed to the thread
            state.alerts.tick(time.monotonic())
            state.store.commit()
        wait_for(lambda: any(a["status"] == "firing" and a["details"]["start"] <= spike_ts
                             <= a["details"]["end"] for a in receiver.alerts), 10,
                 "the spike's alert at the receiver")
        written = [json.loads(line) for line in path.read_text().splitlines()]
        assert written == receiver.alerts and {a["kind"] for a in written} == {"anomaly"}
        assert receiver.refused == 0  # signed with the secret the demo registered
    finally:
        receiver.stop()
        state.alerts.close()
