"""What the hub's stale watch (actors/hub/staleness.py) costs its loop: one slice at a time.

    PYTHONPATH=. python -m bench.stale_watch --series 100000

Builds a hub state with that many analysed series (in a temporary folder) and times the
watch's slices (SLICE series each, what one timer tick of the hub's loop does) over a few
rounds: the first round records every series, the later ones compare counts. Prints the
slice times' p50, p90 and max in milliseconds; the max is a slice that starts a round (it
lists the series again).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from actors.hub.series import Series
from actors.hub.staleness import SLICE, TICK, StaleWatch
from tests.support.hub_state import make_state


def main() -> None:
    """Run the bench and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    state = make_state(tempfile.mkdtemp())
    for i in range(args.series):
        series = Series(f"bench.{i}", "arima", {}, False, 0.0)
        series.interval = 60.0
        state.series.add(series)
    state.store.commit()
    watch = StaleWatch(state)
    slices = -(-args.series // SLICE) * args.rounds
    times = []
    for n in range(slices):
        began = time.perf_counter()
        watch.check(1000.0 + n * TICK, SLICE)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    print(f"{args.series} series, {slices} slices of {SLICE} (one every {TICK} s; a round "
          f"{args.series / SLICE * TICK:.1f} s): p50 {times[len(times) // 2]:.2f} ms, "
          f"p90 {times[int(len(times) * 0.9)]:.2f} ms, max {times[-1]:.2f} ms "
          f"(load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
