"""TeeServer on real loopback sockets (TCP and Unix): many connections, exact counts, bad peers."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import stat
from collections import Counter

import pytest
import qpack

from actors.listener.counter import PointCounter
from actors.listener.tee import HEADER, count_points, encode_package
from actors.listener.tee_limits import TeeLimits
from actors.listener.tee_server import TeeServer, TeeServerError

DEADLINE = 10.0  # every wait and every receive is bounded by this


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


class Tally:
    """on_counts target that lets a test wait until the totals reach what it sent."""

    def __init__(self):
        self.counts: Counter[str] = Counter()
        self.packages = 0
        self._changed: asyncio.Event | None = None

    def on_counts(self, counts):
        self.counts.update(counts)
        self.packages += 1
        if self._changed is not None:
            self._changed.set()

    async def wait_for(self, predicate, what):
        self._changed = self._changed or asyncio.Event()
        try:
            async with asyncio.timeout(DEADLINE):
                while not predicate():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what}: {dict(self.counts)}") from None


def packages_for(conn_id, n_packages, rng):
    """Packages and what they count: series shared by all connections plus a private one."""
    expected: Counter[str] = Counter()
    packages = []
    for i in range(n_packages):
        series = {
            f"shared.{j}": [[i * 10 + k, k * 0.5] for k in range(rng.randint(1, 30))]
            for j in rng.sample(range(8), rng.randint(1, 4))
        }
        series[f"conn{conn_id}/it's ü"] = [[i, "text"]]
        packages.append(encode_package(series, tp=rng.choice([0, 134, 135, 137, 139])))
        expected.update({name: len(points) for name, points in series.items()})
    return packages, expected


async def send_in_random_pieces(writer, data, rng):
    pos = 0
    while pos < len(data):
        step = rng.choice([1, 7, 100, 4096, len(data)])
        writer.write(data[pos : pos + step])
        pos += step
        if rng.random() < 0.3:
            await writer.drain()
    await writer.drain()


async def expect_closed_by_server(reader):
    """The server closed the connection: EOF (or a reset) within the deadline."""
    try:
        data = await asyncio.wait_for(reader.read(100), DEADLINE)
    except ConnectionResetError:
        return
    assert data == b""


async def run_clients(server, tally, open_connection, n_connections, n_packages):
    conns = [await open_connection() for _ in range(n_connections)]
    await server.wait_connection_count(n_connections, DEADLINE)  # all open at once
    expected: Counter[str] = Counter()
    jobs = []
    for conn_id, (_, writer) in enumerate(conns):
        rng = random.Random(conn_id)
        packages, exp = packages_for(conn_id, n_packages, rng)
        expected.update(exp)
        jobs.append(send_in_random_pieces(writer, b"".join(packages), rng))
    await asyncio.gather(*jobs)
    total = sum(expected.values())
    await tally.wait_for(lambda: sum(tally.counts.values()) >= total, f"{total} points")
    assert tally.counts == expected
    assert tally.packages == n_connections * n_packages == server.packages
    for _, writer in conns:
        writer.close()
    await server.wait_connection_count(0, DEADLINE)


def test_twenty_concurrent_tcp_connections_count_exactly():
    async def main():
        tally = Tally()
        server = TeeServer(tally.on_counts, port=0)
        await server.start()
        try:
            assert server.port != 0
            await run_clients(
                server, tally, lambda: asyncio.open_connection("127.0.0.1", server.port), 20, 40
            )
            assert server.protocol_errors == 0
        finally:
            await server.close()

    run(main())


def test_unix_socket_and_tcp_together(tmp_path):
    path = str(tmp_path / "tee.sock")

    async def main():
        tally = Tally()
        server = TeeServer(tally.on_counts, port=0, unix_path=path)
        await server.start()
        try:
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
            await run_clients(server, tally, lambda: asyncio.open_unix_connection(path), 20, 20)
            tally.counts.clear()
            tally.packages = server.packages = 0
            await run_clients(
                server, tally, lambda: asyncio.open_connection("127.0.0.1", server.port), 3, 5
            )
        finally:
            await server.close()
        assert not os.path.exists(path)

    run(main())


def test_listener_wiring_count_points_into_a_point_counter():
    async def main():
        counter = PointCounter()
        counter.replace(["cpu"], realtime=["alarm"])
        done = asyncio.Event()

        def on_counts(raw_counts):
            counter.add_raw(raw_counts)
            if counter.has_realtime_pending():
                done.set()

        server = TeeServer(on_counts, decode=count_points, port=0)
        await server.start()
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(encode_package({"cpu": [[1, 1], [2, 2]], "other": [[1, 1]]}))
            big = {"cpu": [[t, t / 3] for t in range(200_000)]}  # ~4 MB, many reads
            writer.write(encode_package(big) + encode_package({"alarm": [[1, 1]]}))
            await writer.drain()
            await asyncio.wait_for(done.wait(), DEADLINE)
            assert counter.take_realtime() == {"alarm": 1}
            assert counter.take() == {"cpu": 200_002}
            writer.close()
        finally:
            await server.close()

    run(main())


BAD_PACKAGES = {  # kind: (package, what the log line gives as the reason)
    "bad QPack": (HEADER.pack(3, 0, 0, 0) + b"\xfd\x85a", "bad QPack"),
    "non-map body": (HEADER.pack(4, 0, 0, 0) + qpack.packb([1, 2, 3]), "expected a map"),
    "over-size": (HEADER.pack(5000, 0, 0, 0) + bytes(10), "exceeds the maximum of 1000"),
    "points not a list": (HEADER.pack(4, 0, 0, 0) + b"\xfd\x81a\x05", "expected a list"),
}


@pytest.mark.parametrize("transport", ["tcp", "unix"])
@pytest.mark.parametrize("kind", list(BAD_PACKAGES))
def test_malformed_package_closes_only_its_connection(kind, transport, tmp_path, caplog):
    package, reason = BAD_PACKAGES[kind]
    path = str(tmp_path / "tee.sock")

    async def main():
        tally = Tally()
        server = TeeServer(tally.on_counts, port=0, unix_path=path,
                            limits=TeeLimits(max_package_size=1000, max_buffered=1000))
        await server.start()
        if transport == "tcp":
            connect = lambda: asyncio.open_connection("127.0.0.1", server.port)  # noqa: E731
        else:
            connect = lambda: asyncio.open_unix_connection(path)  # noqa: E731
        try:
            good = [await connect() for _ in range(3)]
            bad_reader, bad_writer = await connect()
            await server.wait_connection_count(4, DEADLINE)
            sockname = bad_writer.get_extra_info("sockname")
            bad_peer = f"127.0.0.1:{sockname[1]}" if transport == "tcp" else f"unix:{path}#"
            x1, x2 = encode_package({"x": [[1, 1]]}), encode_package({"x": [[2, 2]]})
            bad_writer.write(x1 + package + x2)
            await bad_writer.drain()
            await expect_closed_by_server(bad_reader)
            await server.wait_connection_count(3, DEADLINE)
            for i, (_, writer) in enumerate(good):
                writer.write(encode_package({"y": [[1, 1]] * (i + 1)}))
                await writer.drain()
            await tally.wait_for(lambda: tally.counts["y"] >= 6, "the good connections")
            assert tally.counts == {"x": 1, "y": 6}  # the package before the bad one counted
            assert server.protocol_errors == 1
            for _, writer in [*good, (bad_reader, bad_writer)]:
                writer.close()
            return bad_peer
        finally:
            await server.close()

    with caplog.at_level(logging.INFO, logger="actors.listener.tee_server"):
        bad_peer = run(main())
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings
    assert f"closing connection from {bad_peer}" in warnings[0]
    assert reason in warnings[0]


def test_failing_callback_is_logged_and_the_connection_stays(caplog):
    async def main():
        seen = []
        both = asyncio.Event()

        def on_counts(counts):
            seen.append(counts)
            if len(seen) == 2:
                both.set()
            if len(seen) == 1:
                raise RuntimeError("boom")

        server = TeeServer(on_counts, port=0)
        await server.start()
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(encode_package({"a": [[1, 1]]}) + encode_package({"b": [[1, 1]]}))
            await writer.drain()
            await asyncio.wait_for(both.wait(), DEADLINE)
            assert seen == [{"a": 1}, {"b": 1}]
            assert server.connection_count == 1
            writer.close()
        finally:
            await server.close()

    with caplog.at_level(logging.ERROR, logger="actors.listener.tee_server"):
        run(main())
    assert any("on_counts failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_close_drops_connections_and_stops_listening():
    async def main():
        server = TeeServer(Tally().on_counts, port=0)
        await server.start()
        port = server.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await server.wait_connection_count(1, DEADLINE)
        await server.close()
        assert server.connection_count == 0
        await expect_closed_by_server(reader)
        writer.close()
        with pytest.raises(OSError):
            await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), DEADLINE)

    run(main())


def test_busy_port_is_a_clear_error():
    async def main():
        first = TeeServer(Tally().on_counts, port=0)
        await first.start()
        try:
            second = TeeServer(Tally().on_counts, port=first.port)
            with pytest.raises(TeeServerError, match=f"cannot listen on 127.0.0.1:{first.port}"):
                await second.start()
        finally:
            await first.close()

    run(main())


def test_stale_unix_socket_is_replaced_but_not_a_live_one_or_a_file(tmp_path):
    stale = str(tmp_path / "stale.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(stale)
    sock.close()  # the file stays behind, as after a crash
    regular = tmp_path / "file"
    regular.write_text("keep me")

    async def main():
        server = TeeServer(Tally().on_counts, host=None, unix_path=stale)
        await server.start()
        try:
            other = TeeServer(Tally().on_counts, host=None, unix_path=stale)
            with pytest.raises(TeeServerError, match="another process is listening"):
                await other.start()
            assert server.unix_path and os.path.exists(stale)
        finally:
            await server.close()
        with pytest.raises(TeeServerError, match="not a socket"):
            await TeeServer(Tally().on_counts, host=None, unix_path=str(regular)).start()
        assert regular.read_text() == "keep me"

    run(main())


def test_over_budget_connection_pauses_and_resumes_when_room_is_freed():
    """Two large packages that do not fit the budget together both arrive, one after the other."""
    big = {f"big.{i}": [[t, float(t)] for t in range(3000)] for i in range(2)}
    first, second = (encode_package({name: points}) for name, points in big.items())
    budget = len(first) + len(second) // 2  # room for one and a half

    async def main():
        tally = Tally()
        server = TeeServer(tally.on_counts, port=0, limits=TeeLimits(
            max_package_size=budget, max_buffered=budget, package_timeout=DEADLINE))
        await server.start()
        try:
            (_, a), (_, b) = [await asyncio.open_connection("127.0.0.1", server.port)
                              for _ in range(2)]
            await server.wait_connection_count(2, DEADLINE)
            a.write(first[:-1])  # all but the last byte: held
            await a.drain()
            b.write(second[:-1])  # takes the total past the budget: b's reads pause
            await b.drain()
            async with asyncio.timeout(DEADLINE):
                while not server._paused:
                    await asyncio.sleep(0.01)  # polls the server's state, bounded
            b.write(second[-1:])  # not read while paused
            await b.drain()
            assert server.buffered > budget and tally.packages == 0
            a.write(first[-1:])  # a's package completes: room again, b resumes
            await tally.wait_for(lambda: tally.packages == 2, "both packages")
            assert tally.counts == {"big.0": 3000, "big.1": 3000}
            assert server.buffered == 0 and not server._paused and server.protocol_errors == 0
            for writer in (a, b):
                writer.close()
            await server.wait_connection_count(0, DEADLINE)
        finally:
            await server.close()

    run(main())


def test_a_silent_connection_is_closed_after_idle_timeout_and_the_count_survives(caplog):
    async def main():
        tally = Tally()
        server = TeeServer(tally.on_counts, port=0,
                           limits=TeeLimits(idle_timeout=0.3, package_timeout=5))
        await server.start()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(encode_package({"x": [[1, 1.0], [2, 2.0]]}))
            await writer.drain()
            await tally.wait_for(lambda: tally.counts["x"] == 2, "the package")
            await expect_closed_by_server(reader)  # then nothing for 0.3 s: closed
            await server.wait_connection_count(0, DEADLINE)
            assert "silent for 0.3 s" in caplog.text
            writer.close()
        finally:
            await server.close()

    with caplog.at_level(logging.INFO):
        run(main())
