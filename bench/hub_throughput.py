"""Hub message throughput: LISTENER_ADD_SERIE_COUNT acknowledged per second vs bare pyzmq PUSH/PULL.

    python bench/hub_throughput.py [--series 10000] [--peers 4] [--names 20] [--window 100]
                                   [--messages 20000] [--rounds 5] [--latency-messages 2000]

A real enodo-hub (random loopback ports, throw-away data_dir, SiriDB not configured, log level
WARNING, a fixed token) watches --series series, added by one handshaken client on the control
socket with 500 add_series requests in flight (the registration time is printed). Then --peers
processes, each a handshaken `listener` DEALER, send --messages LISTENER_ADD_SERIE_COUNT in all
(an even share each), every message carrying counts for --names series drawn from the watched
ones, with at most --window messages unacknowledged per peer; the frames are encoded before
the clock starts, so the peers spend their CPU on sending and reading replies. Rate =
acknowledged messages / (last acknowledgement - first send) over all peers. Round-trip latency
(send to RESPONSE_OK) is given under that load and, separately, for one peer with one message
in flight.

Baseline, in the same run: one process PUSHes the same count of messages, each the four encoded
frames of one counts message, over loopback TCP to one process PULLing them (both in parallel,
as the hub and its peers are). Rounds alternate hub, baseline and echo; figures are medians.

Echo, also in the same run: the same peers against a Python ROUTER that decodes each message
with the protocol's codec and answers RESPONSE_OK, keeping no state. It is the floor of any
hub written in Python on this protocol (receive, decode and check, encode, send): hub/echo
says what the hub's own work (counting, journal, commit) costs on top of it.
After the rounds the hub's point counts of a few series are checked against what was sent.
Goal: hub msg/s >= 0.3 x bare msg/s. The hub commits to SQLite once per loop turn before it
replies; that is part of what is measured. The hub's CPU share per round is printed (from
/proc) to tell a saturated hub from starved peers: this machine has 2 cores for all processes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import zmq  # noqa: E402

from protocol.envelope import Codec, Message, ok, reply  # noqa: E402
from protocol.transport import Channel, bind, make_socket  # noqa: E402
from protocol.types import MessageType  # noqa: E402
from tests.support.hub import HubProcess, Peer  # noqa: E402

GOAL = 0.3
TOKEN = "bench-token"  # set explicitly: the hub would otherwise make one in its data_dir
REGISTER_WINDOW = 500
CHECKED = 5  # series whose counts are verified at the end
MAX_SIZE = 1 << 24
ROUND_TIMEOUT = 600.0


def series_name(i: int) -> str:
    return f"bench.host{i // 10:04d}.metric{i % 10}"


def counts_frames(codec: Codec, names: list[str], k: int, rng: random.Random) -> tuple:
    """One encoded counts message and its counts."""
    counts = {name: rng.randint(1, 5) for name in rng.sample(names, k)}
    msg = Message(MessageType.LISTENER_ADD_SERIE_COUNT, {"counts": counts})
    return msg.id, codec.encode(msg), counts


def api_many(address: str, requests: list[tuple[str, dict]], window: int) -> list[Message]:
    """Run API actions as a handshaken client on the control socket, `window` in flight.

    (The control socket rather than the api socket: after the handshake no request needs
    the token, whichever hub version runs.) Replies come back in request order.
    """
    order, replies, sent = [], {}, 0
    with Peer(address, "bench-client", "client", token=TOKEN) as peer:
        if peer.handshake(timeout=30).type is not MessageType.HANDSHAKE_OK:
            raise RuntimeError("the hub refused the bench client's handshake")
        channel = peer.channel
        while len(replies) < len(requests):
            while sent < len(requests) and sent - len(replies) < window:
                action, params = requests[sent]
                msg = Message(MessageType.API_REQUEST, {"action": action, "params": params})
                channel.send(msg)
                order.append(msg.id)
                sent += 1
            answer = peer.recv(timeout=30)
            if answer.reply_to is not None:
                replies[answer.reply_to] = answer
    return [replies[msg_id] for msg_id in order]


def peer_main(conn: Any, peer_no: int, names: list[str], k: int) -> None:
    """A listener peer: per command, handshake, wait for the start, send, report."""
    rng = random.Random(peer_no)
    while True:
        command = conn.recv()
        if command is None:
            return
        address, count, window = command
        client_id = f"bench-listener-{peer_no}"
        codec = Codec(client_id, max_size=MAX_SIZE)
        prepared = [counts_frames(codec, names, k, rng) for _ in range(count)]
        with Peer(address, client_id, "listener", token=TOKEN) as peer:
            if peer.handshake(timeout=30).type is not MessageType.HANDSHAKE_OK:
                raise RuntimeError("handshake refused")
            sock = peer.channel.socket
            while sock.poll(200):  # UPDATE_SERIES and anything else the hub says first
                sock.recv_multipart()
            conn.send("ready")
            conn.recv()  # go
            conn.send(_send_counts(sock, codec, prepared, window))


def _send_counts(sock: zmq.Socket, codec: Codec, prepared: list, window: int) -> dict:
    totals: dict[str, int] = {}  # what the hub must have counted once all is acknowledged
    for _, _, counts in prepared:
        for name, n in counts.items():
            totals[name] = totals.get(name, 0) + n
    sent_at: dict[str, float] = {}
    rtts: list[float] = []
    matched = sent = errors = 0
    clock = time.perf_counter
    cpu0 = time.process_time()
    started = time.monotonic()
    while len(rtts) < len(prepared):
        while sent < len(prepared) and len(sent_at) < window:
            msg_id, frames, _ = prepared[sent]
            sock.send_multipart(frames)
            sent_at[msg_id] = clock()
            sent += 1
        if not sock.poll(30_000):
            raise RuntimeError(f"no reply in 30 s ({len(rtts)} of {len(prepared)} acknowledged)")
        answer = codec.decode(sock.recv_multipart())
        t_sent = sent_at.pop(answer.reply_to or "", None)
        if t_sent is None:
            continue  # a HEARTBEAT from the hub
        rtts.append(clock() - t_sent)
        if answer.type is MessageType.RESPONSE_OK:
            matched += answer.body["data"]["matched"]
        else:
            errors += 1
    return {"start": started, "end": time.monotonic(), "rtts": rtts, "totals": totals,
            "matched": matched, "errors": errors, "cpu": time.process_time() - cpu0}


def pusher_main(frames: list[bytes], count: int, port_q: Any, ready: Any, out: Any) -> None:
    """Baseline sender: connect, wait until the puller saw a first message, push count."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH)
    sock.connect(f"tcp://127.0.0.1:{port_q.get()}")
    sock.send_multipart(frames)
    ready.wait()
    started = time.monotonic()
    for _ in range(count):
        sock.send_multipart(frames)
    out.put(("start", started))
    sock.close(linger=-1)
    ctx.term()


def puller_main(count: int, port_q: Any, ready: Any, out: Any) -> None:
    """Baseline receiver: bind, take the warm-up message, then receive count."""
    ctx = zmq.Context()
    sock = ctx.socket(zmq.PULL)
    port = sock.bind_to_random_port("tcp://127.0.0.1")
    port_q.put(port)
    sock.recv_multipart()
    ready.set()
    for _ in range(count):
        sock.recv_multipart()
    out.put(("end", time.monotonic()))
    sock.close(linger=0)
    ctx.term()


def bare_round(mp: Any, frames: list[bytes], count: int) -> dict:
    """Messages/s of one bare PUSH/PULL run."""
    port_q, out, ready = mp.Queue(), mp.Queue(), mp.Event()
    procs = [mp.Process(target=puller_main, args=(count, port_q, ready, out)),
             mp.Process(target=pusher_main, args=(frames, count, port_q, ready, out))]
    for proc in procs:
        proc.start()
    marks = dict(out.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join(30)
    return {"rate": count / (marks["end"] - marks["start"])}


def hub_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # USER_HZ is 100 on Linux


def stop(hub: HubProcess) -> None:
    """Stop the hub (SIGTERM, then SIGKILL when it does not end in time)."""
    try:
        hub.stop()
    except subprocess.TimeoutExpired:
        hub.proc.kill()
        hub.proc.wait(10)


def machine_busy() -> float:
    """CPU seconds all processes of the machine spent busy so far (from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / 100.0  # minus idle and iowait


def echo_main(port_q: Any, stop_q: Any) -> None:
    """Protocol floor: a Python ROUTER that decodes each message and answers RESPONSE_OK.

    It handshakes anyone and counts nothing: what is left of a hub that only speaks the
    protocol (receive, decode and validate, encode the reply, send), in the same language.
    """
    ctx = zmq.Context()
    channel = Channel(make_socket(ctx, zmq.ROUTER, MAX_SIZE), Codec("echo", max_size=MAX_SIZE))
    port_q.put(bind(channel.socket, "tcp://127.0.0.1:0").rsplit(":", 1)[1])
    while stop_q.empty():
        if not channel.socket.poll(100):
            continue
        while (incoming := channel.recv(zmq.NOBLOCK)) is not None:
            msg = incoming.msg
            if msg.type is MessageType.HANDSHAKE:
                answer = reply(msg, MessageType.HANDSHAKE_OK, {
                    "hub_id": "echo", "heartbeat_interval": 1.0, "liveness": 3})
            else:
                answer = ok(msg, {"matched": len(msg.body.get("counts", ()))})
            channel.send(answer, incoming.route)
    channel.close()
    ctx.term()


def hub_round(conns: list, target: tuple[str, int], count: int, window: int) -> dict:
    """One run of the listener peers against target, (address, pid) of the hub or the echo."""
    address, pid = target
    share = [count // len(conns) + (i < count % len(conns)) for i in range(len(conns))]
    for conn, n in zip(conns, share, strict=True):
        conn.send((address, n, window))
    for conn in conns:
        if not conn.poll(120) or conn.recv() != "ready":
            raise RuntimeError("a listener peer did not get ready")
    for conn in conns:
        conn.send("go")
    cpu0, machine0 = hub_cpu(pid), machine_busy()
    results = []
    for conn in conns:
        if not conn.poll(ROUND_TIMEOUT):
            raise RuntimeError(f"a listener peer did not finish in {ROUND_TIMEOUT} s")
        results.append(conn.recv())
    cpu, machine = hub_cpu(pid) - cpu0, machine_busy() - machine0
    elapsed = max(r["end"] for r in results) - min(r["start"] for r in results)
    peers_cpu = sum(r["cpu"] for r in results)
    rtts = sorted(x for r in results for x in r["rtts"])
    return {
        "rate": len(rtts) / elapsed, "elapsed": elapsed, "cpu": cpu / elapsed,
        "peers_cpu": peers_cpu / elapsed, "others": max(0.0, machine - cpu - peers_cpu) / elapsed,
        "p50": rtts[len(rtts) // 2] * 1e3, "p99": rtts[int(len(rtts) * 0.99) - 1] * 1e3,
        "matched": sum(r["matched"] for r in results),
        "errors": sum(r["errors"] for r in results), "results": results,
    }


def register(hub: HubProcess, names: list[str]) -> float:
    """Add every series (API add_series); return the seconds it took."""
    started = time.perf_counter()
    replies = api_many(hub.address("control"), [("add_series", {"name": n}) for n in names],
                       REGISTER_WINDOW)
    elapsed = time.perf_counter() - started
    bad = [r.body for r in replies if r.type is not MessageType.RESPONSE_OK]
    if bad:
        raise RuntimeError(f"{len(bad)} add_series failed, e.g. {bad[0]}")
    return elapsed


def verify(hub: HubProcess, sent: dict[str, int]) -> list[str]:
    """Compare the hub's points_counted of a few series with what the peers sent."""
    names = sorted(sent)[:: max(1, len(sent) // CHECKED)][:CHECKED]
    requests = [("get_series", {"name": n}) for n in names] + [("enodo_status", {})]
    *replies, status = api_many(hub.address("control"), requests, 10)
    jobs = status.body["data"]["jobs"]
    lines = [f"  hub jobs now: {jobs['queued']} queued (no worker is connected), "
             f"{jobs['done']} done"]
    for name, answer in zip(names, replies, strict=True):
        got = answer.body["data"]["points_counted"] if answer.body.get("data") else answer.body
        lines.append(f"  {name}: sent {sent[name]}, hub counted {got} "
                     f"{'ok' if got == sent[name] else 'MISMATCH'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the rounds and print rates, the ratio, latencies and the count check."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--peers", type=int, default=4)
    parser.add_argument("--names", type=int, default=20, help="series per counts message (K)")
    parser.add_argument("--window", type=int, default=100, help="unacknowledged per peer")
    parser.add_argument("--messages", type=int, default=20_000, help="per round, all peers")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-messages", type=int, default=2000)
    parser.add_argument(
        "--min-data-points", type=int, default=None,
        help="set this hub setting first (default: leave 100; series that pass it get a train "
             "job queued, which no worker takes)")
    args = parser.parse_args(argv)
    # timeout(1) and kill send SIGTERM: unwind, so that what was started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    mp = multiprocessing.get_context("spawn")
    names = [series_name(i) for i in range(args.series)]
    sample = counts_frames(Codec("bench-listener-0"), names, args.names, random.Random(0))[1]
    size = sum(len(f) for f in sample)
    extra = {"ENODO_HUB_LOG_LEVEL": "WARNING", "ENODO_HUB_HEARTBEAT_INTERVAL": "1.0",
             "ENODO_HUB_TOKEN": TOKEN}
    with tempfile.TemporaryDirectory(prefix="enodo-bench-") as tmp:
        hub = HubProcess(Path(tmp), extra)
        pipes = [mp.Pipe() for _ in range(args.peers)]
        peers = [mp.Process(target=peer_main, daemon=True,
                            args=(child, i, names, args.names))
                 for i, (_, child) in enumerate(pipes)]
        echo = None
        try:
            hub.start()
            for proc in peers:
                proc.start()
            reg = register(hub, names)
            if args.min_data_points is not None:
                settings = {"min_data_points": args.min_data_points}
                api_many(hub.address("control"), [("set_settings", {"settings": settings})], 1)
            conns = [parent for parent, _ in pipes]
            target = (hub.address("control"), hub.proc.pid)
            echo, echo_target = start_echo(mp)
            warm = hub_round(conns, target, min(args.messages, 2000), args.window)
            bare_round(mp, sample, min(args.messages, 2000))
            hub_runs, bare_runs, echo_runs = [], [], []
            for _ in range(args.rounds):
                hub_runs.append(hub_round(conns, target, args.messages, args.window))
                bare_runs.append(bare_round(mp, sample, args.messages))
                echo_runs.append(hub_round(conns, echo_target, args.messages, args.window))
            probe = hub_round(conns[:1], target, args.latency_messages, 1)
            sent: dict[str, int] = {}
            for run in [warm, *hub_runs, probe]:
                for result in run["results"]:
                    for name, n in result["totals"].items():
                        sent[name] = sent.get(name, 0) + n
            checks = verify(hub, sent)
        finally:
            for conn, _ in pipes:
                conn.send(None)
            for proc in peers:
                if proc.pid is not None:
                    proc.join(10)
                    if proc.is_alive():
                        proc.kill()
            stop(hub)
            if echo is not None:
                echo[1].put("stop")
                echo[0].join(10)
    _report(args, size, reg, hub_runs, bare_runs, echo_runs, probe, checks)
    return 0


def start_echo(mp: Any) -> tuple[tuple[Any, Any], tuple[str, int]]:
    """Start the protocol-floor echo; return (process, stop queue) and its (address, pid)."""
    port_q, stop_q = mp.Queue(), mp.Queue()
    proc = mp.Process(target=echo_main, args=(port_q, stop_q), daemon=True)
    proc.start()
    return (proc, stop_q), (f"tcp://127.0.0.1:{port_q.get(timeout=30)}", proc.pid)


def _report(args, size, reg, hub_runs, bare_runs, echo_runs, probe, checks) -> None:
    hub_rate = statistics.median(r["rate"] for r in hub_runs)
    bare_rate = statistics.median(r["rate"] for r in bare_runs)
    echo_rate = statistics.median(r["rate"] for r in echo_runs)
    median = sorted(hub_runs, key=lambda r: r["rate"])[len(hub_runs) // 2]
    print(f"series {args.series}; peers {args.peers}; {args.names} series per message "
          f"({size} bytes in 4 frames); window {args.window}; {args.messages} messages per "
          f"round; median of {args.rounds} rounds")
    print(f"registration: {args.series} add_series in {reg:.2f} s "
          f"({args.series / reg:.0f} series/s, {REGISTER_WINDOW} in flight)")
    hub_rounds = ", ".join(f"{r['rate']:.0f}" for r in hub_runs)
    print(f"hub:  {hub_rate:8.0f} msg/s  ({hub_rate * args.names:.0f} series counts/s)  "
          f"rounds: {hub_rounds}")
    bare_rounds = ", ".join(f"{r['rate']:.0f}" for r in bare_runs)
    print(f"bare: {bare_rate:8.0f} msg/s  (pyzmq PUSH -> PULL, same frames)  "
          f"rounds: {bare_rounds}")
    echo_rounds = ", ".join(f"{r['rate']:.0f}" for r in echo_runs)
    echo_median = sorted(echo_runs, key=lambda r: r["rate"])[len(echo_runs) // 2]
    print(f"echo: {echo_rate:8.0f} msg/s  (Python ROUTER: decode, answer RESPONSE_OK; no state)"
          f"  rounds: {echo_rounds}; CPU {echo_median['cpu']:.2f} cores "
          f"({echo_median['cpu'] / echo_median['rate'] * 1e6:.0f} us/msg)")
    print(f"hub under load: p50 {median['p50']:.2f} ms  p99 {median['p99']:.2f} ms; errors "
          f"{sum(r['errors'] for r in hub_runs)}; matched {sum(r['matched'] for r in hub_runs)}"
          f" of {args.rounds * args.messages * args.names} series counts")
    print(f"CPU in the median hub round (cores): hub {median['cpu']:.2f} "
          f"({median['cpu'] / median['rate'] * 1e6:.0f} us/msg), peers "
          f"{median['peers_cpu']:.2f}, other processes on the machine {median['others']:.2f}")
    print(f"hub, one peer, 1 in flight: p50 {probe['p50']:.2f} ms  p99 {probe['p99']:.2f} ms "
          f"({probe['rate']:.0f} msg/s)")
    print("counts check (get_series points_counted vs sent, warm-up included):")
    print("\n".join(checks))
    print(f"ratio echo/bare: {echo_rate / bare_rate:.3f} (the protocol's floor in Python)")
    print(f"ratio hub/echo: {hub_rate / echo_rate:.3f} (what the hub's work costs on top)")
    print(f"ratio hub/bare: {hub_rate / bare_rate:.3f} (goal >= {GOAL})")


if __name__ == "__main__":
    sys.exit(main())
