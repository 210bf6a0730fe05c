"""Replays siridb_vectors.json against a DevServer and records what differed."""

from __future__ import annotations

import asyncio
import hashlib
import json
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import qpack

HEADER = struct.Struct('<IHBB')
TIMEOUT = 5.0
PROBE_PID = 60000
RECORDED_TEE_PORT = 19104


def vectors_path() -> Path:
    """tests/data/siridb_vectors.json, the recorded cases shipped with the repository."""
    return Path(__file__).resolve().parents[1] / 'data' / 'siridb_vectors.json'


def load_vectors() -> dict[str, Any]:
    """The recorded exchanges."""
    return json.loads(vectors_path().read_text())


@dataclass
class Outcome:
    """What happened to one case: problems is empty when it matched."""

    problems: list[str] = field(default_factory=list)


class TeeListener:
    """The tee side of the test: a TCP server that records connections and packages."""

    def __init__(self) -> None:
        self.port = 0
        self.server: asyncio.AbstractServer | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.connects = 0
        self.events: asyncio.Queue[tuple[str, int, bytes]] = asyncio.Queue()

    async def listen(self) -> None:
        """Listen (again) on the same port."""
        self.server = await asyncio.start_server(self._accept, '127.0.0.1', self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connects += 1
        number = self.connects
        self.writers.append(writer)
        await self.events.put(('connect', number, b''))
        try:
            while True:
                header = await reader.readexactly(8)
                length = HEADER.unpack(header)[0]
                body = await reader.readexactly(length)
                await self.events.put(('package', number, header + body))
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.events.put(('eof', number, b''))

    async def drop_connections(self) -> None:
        """Close the accepted connections but keep listening."""
        for writer in self.writers:
            writer.close()
        # close() only schedules the close; the server must see the EOF before the
        # next insert, as it did after the recorder's 0.5 s pause.
        for writer in self.writers:
            await writer.wait_closed()
        self.writers = []

    async def close(self) -> None:
        """Close everything: connections are refused afterwards."""
        await self.drop_connections()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    async def next_event(self) -> tuple[str, int, bytes]:
        """The next connect/package/eof, within TIMEOUT."""
        return await asyncio.wait_for(self.events.get(), TIMEOUT)


class Replayer:
    """Runs the client cases in file order; tee cases also check the listener."""

    def __init__(self, host: str, port: int, vectors: dict[str, Any]) -> None:
        self.host = host
        self.port = port
        self.vectors = vectors
        self.tee_cases = {t['client_case']: t for t in vectors['tee']}
        self.conns: dict[str, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}
        self.listener = TeeListener()
        self.client: dict[str, Outcome] = {}
        self.tee: dict[str, Outcome] = {}

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.wait_for(asyncio.open_connection(self.host, self.port), TIMEOUT)

    async def _read(self, reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
        header = await asyncio.wait_for(reader.readexactly(8), TIMEOUT)
        body = await asyncio.wait_for(reader.readexactly(HEADER.unpack(header)[0]), TIMEOUT)
        return header, body

    def _request(self, case: dict[str, Any]) -> tuple[bytes, bytes]:
        request = case['request']
        header, body = bytes.fromhex(request['header']), bytes.fromhex(request['body'])
        if case['name'] in ('alter_tee_set', 'show_tee_set'):
            query = request['decoded'][0].replace(str(RECORDED_TEE_PORT), str(self.listener.port))
            body = qpack.packb([query, None])
            header = HEADER.pack(len(body), request['pid'], request['type'], header[7])
        return header, body

    def _expected(self, case: dict[str, Any]) -> tuple[bytes, bytes]:
        reply = case['reply']
        header, body = bytes.fromhex(reply['header']), bytes.fromhex(reply['body'])
        if case['name'] == 'show_tee_set':
            body = body.replace(qpack.packb(f'127.0.0.1:{RECORDED_TEE_PORT}'),
                                qpack.packb(f'127.0.0.1:{self.listener.port}'))
            header = HEADER.pack(len(body), *HEADER.unpack(header)[1:])
        return header, body

    async def run(self) -> None:
        """Replay everything, then close the connections."""
        try:
            for case in self.vectors['client']:
                outcome = self.client[case['name']] = Outcome()
                try:
                    await self._case(case, outcome)
                except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
                    outcome.problems.append(f'{type(exc).__name__}: {exc}')
            await self._after_tee()
        finally:
            for _, writer in self.conns.values():
                writer.close()
            await self.listener.close()

    async def _case(self, case: dict[str, Any], outcome: Outcome) -> None:
        name = case['name']
        await self._before(name)
        if case['connection'] == 'new':
            reader, writer = await self._open()
        else:
            if case['connection'] not in self.conns:
                self.conns[case['connection']] = await self._open()
            reader, writer = self.conns[case['connection']]
        header, body = self._request(case)
        writer.write(header + body)
        await writer.drain()
        try:
            if case['reply'] is None:
                await self._check_no_reply(case, reader, writer, outcome)
            else:
                await self._check_reply(case, *await self._read(reader), outcome)
        finally:
            if case['connection'] == 'new':
                writer.close()
        if name in self.tee_cases:
            await self._check_tee(self.tee_cases[name])

    async def _check_reply(self, case: dict[str, Any], header: bytes, body: bytes,
                           outcome: Outcome) -> None:
        want_header, want_body = self._expected(case)
        if case.get('volatile'):
            value = qpack.unpackb(body, decode='utf-8')
            now_ms = time.time() * 1000
            if (header[4:] != want_header[4:] or body[:6] != want_body[:6]
                    or abs(value['calc'] - now_ms) > 60_000):
                outcome.problems.append(f'volatile reply {header.hex()} {body.hex()}')
            return
        if header != want_header:
            outcome.problems.append(f'header {header.hex()} != {want_header.hex()}')
        if body != want_body:
            outcome.problems.append(f'body {body.hex()} != {want_body.hex()}')

    async def _check_no_reply(self, case: dict[str, Any], reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter, outcome: Outcome) -> None:
        if 'closed' in case['no_reply']:
            data = await asyncio.wait_for(reader.read(1), TIMEOUT)
            if data:
                outcome.problems.append(f'expected the server to close, got {data.hex()}')
            return
        # The server answers in order, so a PING answered first proves the silence.
        writer.write(HEADER.pack(0, PROBE_PID, 3, 3 ^ 0xFF))
        await writer.drain()
        header, body = await self._read(reader)
        if header != HEADER.pack(0, PROBE_PID, 3, 3 ^ 0xFF) or body:
            outcome.problems.append(f'expected no reply, got {header.hex()} {body.hex()}')

    async def _before(self, name: str) -> None:
        if name == 'alter_tee_set':
            await self.listener.listen()
        tee_case = self.tee_cases.get(name)
        if tee_case is None:
            return
        state = tee_case['listener_before']
        if 'closed the accepted' in state:
            await self.listener.drop_connections()
        elif state.startswith('fully closed'):
            await self.listener.close()
        elif 'listening again' in state:
            await self.listener.listen()

    async def _next_event(self) -> tuple[str, int, bytes]:
        while True:
            event = await self.listener.next_event()
            if event[0] != 'eof':
                return event

    async def _check_tee(self, tee_case: dict[str, Any]) -> None:
        outcome = self.tee[tee_case['name']] = Outcome()
        try:
            for expected in tee_case['listener_events']:
                kind, number, _ = await self._next_event()
                if f'{kind} (connection {number})' != expected:
                    outcome.problems.append(f'listener saw {kind} {number}, expected {expected}')
            if tee_case['forwarded']:
                kind, number, package = await self._next_event()
                self._compare_package(tee_case, kind, number, package, outcome)
            elif not self.listener.events.empty():
                kind, number, package = self.listener.events.get_nowait()
                if kind != 'eof':
                    outcome.problems.append(f'unexpected {kind} {number} {package[:40].hex()}')
        except TimeoutError:
            outcome.problems.append('timed out waiting for the listener')

    def _compare_package(self, tee_case: dict[str, Any], kind: str, number: int,
                         package: bytes, outcome: Outcome) -> None:
        if kind != 'package' or number != tee_case['connection']:
            outcome.problems.append(f'expected a package on {tee_case["connection"]}, '
                                    f'got {kind} on {number}')
            return
        want = bytes.fromhex(tee_case['package'])
        if tee_case.get('package_truncated'):
            body = package[8:]
            if (not package.startswith(want) or len(body) != tee_case['body_length']
                    or hashlib.sha256(body).hexdigest() != tee_case['body_sha256']):
                outcome.problems.append(f'package {package[:80].hex()}... differs')
        elif package != want:
            outcome.problems.append(f'package {package.hex()} != {want.hex()}')

    async def _after_tee(self) -> None:
        """'set tee false' must have closed the last tee connection, with nothing after."""
        outcome = self.tee['tee_closed_by_set_false'] = Outcome()
        last = self.listener.connects
        try:
            while True:
                kind, number, package = await self.listener.next_event()
                if kind == 'eof' and number == last:
                    break
                if kind != 'eof':
                    outcome.problems.append(f'unexpected {kind} on {number}: {package.hex()}')
        except TimeoutError:
            outcome.problems.append(f'tee connection {last} was not closed')


def replay(host: str, port: int) -> Replayer:
    """Run the whole replay against a server; returns the replayer with its outcomes."""
    replayer = Replayer(host, port, load_vectors())
    asyncio.run(replayer.run())
    return replayer
