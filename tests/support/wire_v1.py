"""A recorded conversation in wire format version 1: raw frames of peers and the hub's answers.

`tests/data/wire_v1.json` holds the frames a listener, a worker, a client and the REST API
sent, encoded by the code of main at a9aa14a (the last commit without the typed protocol), and
the answers that hub gave. tests/integration/test_wire_compat.py replays those frames,
byte for byte, to today's hub and compares its answers: a peer built from that commit
still talks to this hub, and the JSON the hub answers has not changed.

Recorded with the old tree first on the path (its Codec and HubProcess are used):

    git archive a9aa14a | tar -x -C /tmp/old
    PYTHONPATH=/tmp/old python tests/support/wire_v1.py tests/data/wire_v1.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import zmq

TOKEN = "wire-v1-token"
#: Values that differ from run to run (ids, clocks): compared as present, not by value.
VOLATILE = {"hub_id", "created_at", "updated_at", "uptime", "ts", "last_seen", "first_seen",
            "id", "nonce"}

# (peer, socket, message type, body): peers are DEALERs on the control socket, "api" a REQ
# on the api socket. Every id is fixed, so the recorded frames are the same every time.
CONVERSATION: list[tuple[str, str, str, dict[str, Any]]] = [
    ("stranger", "control", "HEARTBEAT", {}),
    ("client", "control", "HANDSHAKE", {"client_id": "client-1", "client_type": "client",
                                        "version": "0.1.0", "protocol": 1, "token": TOKEN}),
    ("client", "control", "API_REQUEST", {"action": "add_series", "params": {
        "name": "cpu/load", "model": 1, "realtime": True, "anomaly": {"k": 2, "n": 3}}}),
    ("client", "control", "ADD_SERIE", {"name": "mem", "model": "ets",
                                        "model_parameters": {"spec": "AAN"}}),
    ("client", "control", "API_REQUEST", {"action": "get_series", "params": {"name": "mem"}}),
    ("client", "control", "API_REQUEST", {"action": "add_series", "params": {
        "name": "x", "model_parameters": {"nope": 1}}}),
    ("client", "control", "API_REQUEST", {"action": "add_series", "params": {
        "name": "cpu/load"}}),
    ("client", "control", "API_REQUEST", {"action": "set_settings",
                                          "params": {"settings": {"horizon": 48}}}),
    ("client", "control", "API_REQUEST", {"action": "set_settings",
                                          "params": {"settings": {"horizon": 0}}}),
    ("client", "control", "API_REQUEST", {"action": "queue_job", "params": {
        "name": "cpu/load", "job_type": "fit"}}),
    ("client", "control", "API_REQUEST", {"action": "queue_job", "params": {
        "name": "cpu/load", "job_type": "sideways"}}),
    ("client", "control", "API_REQUEST", {"action": "get_forecast",
                                          "params": {"name": "cpu/load"}}),
    ("client", "control", "API_REQUEST", {"action": "get_anomalies",
                                          "params": {"name": "cpu/load", "limit": 5}}),
    ("client", "control", "API_REQUEST", {"action": "get_accuracy",
                                          "params": {"name": "cpu/load"}}),
    ("client", "control", "API_REQUEST", {"action": "get_series", "params": {"name": "nope"}}),
    ("client", "control", "REMOVE_SERIE", {"name": ""}),
    ("client", "control", "REMOVE_SERIE", {"name": "mem"}),
    ("listener", "control", "HANDSHAKE", {"client_id": "listener-1", "client_type": "listener",
                                          "version": "0.1.0", "protocol": 1, "token": TOKEN}),
    ("listener", "control", "LISTENER_ADD_SERIE_COUNT", {"counts": {"cpu/load": 5, "gone": 3}}),
    ("listener", "control", "LISTENER_ADD_SERIE_COUNT", {"counts": {"cpu/load": -1}}),
    ("listener", "control", "HEARTBEAT", {}),
    ("worker", "control", "HANDSHAKE", {"client_id": "worker-1", "client_type": "worker",
                                        "version": "0.1.0", "protocol": 1, "token": TOKEN,
                                        "capacity": 1, "models": ["arima", "ets"],
                                        "nonce": "0123456789abcdef" * 2, "instance": "w-1"}),
    ("worker", "control", "HEARTBEAT", {"busy": False, "job_id": None}),
    ("client", "control", "API_REQUEST", {"action": "list_series"}),
    ("client", "control", "API_REQUEST", {"action": "get_settings"}),
    ("client", "control", "API_REQUEST", {"action": "event_log", "params": {"limit": 3}}),
    ("client", "control", "API_REQUEST", {"action": "list_clients"}),
    ("client", "control", "SUBSCRIBE", {"series": ["cpu/load"]}),
    ("api", "api", "API_REQUEST", {"action": "get_series", "params": {"name": "cpu/load"},
                                   "token": TOKEN}),
    ("api", "api", "API_REQUEST", {"action": "siridb_status", "token": TOKEN}),
    ("api", "api", "API_REQUEST", {"action": "get_settings", "token": "wrong"}),
    ("client", "control", "SHUTDOWN", {"reason": "done"}),
]
#: Types the hub sends to no request (its heartbeats): left out of the comparison.
UNPROMPTED = {"HEARTBEAT"}
#: Requests the hub answers with nothing (its pushes aside).
NO_REPLY = {("listener", "HEARTBEAT"), ("worker", "HEARTBEAT"), ("client", "SHUTDOWN")}


def normalise(value: Any) -> Any:
    """value with every VOLATILE key's value replaced by its type's name."""
    if isinstance(value, dict):
        return {k: (type(v).__name__ if k in VOLATILE else normalise(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def answer(frames: list[bytes]) -> dict[str, Any]:
    """An answer's comparable part: type, whether it replies, and its normalised body."""
    header, body = json.loads(frames[-2]), json.loads(frames[-1])
    return {"type": header["type"], "reply": header["reply_to"] is not None,
            "body": normalise(body)}


def _receive(sock: zmq.Socket, timeout: float = 5.0) -> list[bytes]:
    if not sock.poll(timeout * 1000):
        raise TimeoutError("the hub did not answer")
    return sock.recv_multipart()


def exchange(sock: zmq.Socket, frames: list[bytes], peer: str, msg_type: str,
             msg_id: str) -> list[dict[str, Any]]:
    """Send raw frames; return the answers up to the one replying to msg_id (pushes too)."""
    sock.send_multipart(frames)
    if (peer, msg_type) in NO_REPLY:
        return []
    answers = []
    while True:
        got = _receive(sock)
        header = json.loads(got[-2])
        if header["type"] in UNPROMPTED and header["reply_to"] is None:
            continue
        answers.append(answer(got))
        if header["reply_to"] == msg_id:
            # A listener's watch list follows its HANDSHAKE_OK.
            if peer == "listener" and msg_type == "HANDSHAKE":
                answers.append(answer(_receive(sock)))
            return answers


def sockets(ctx: zmq.Context, control: str, api: str) -> dict[str, zmq.Socket]:
    """One DEALER per control peer (its identity fixed) and a REQ on the api socket."""
    out = {}
    for peer in sorted({p for p, s, _, _ in CONVERSATION if s == "control"}):
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.IDENTITY, peer.encode())
        sock.connect(control)
        out[peer] = sock
    req = ctx.socket(zmq.REQ)
    req.setsockopt(zmq.LINGER, 0)
    req.connect(api)
    out["api"] = req
    return out


def record(path: Path) -> None:
    """Encode the conversation with the Codec on the path, run it against its hub, save both."""
    from protocol.envelope import Codec, Message, dumps
    from protocol.errors import ProtocolError
    from protocol.types import PROTOCOL_TAG, MessageType
    from tests.support.hub import HubProcess

    steps = []
    with tempfile.TemporaryDirectory() as tmp:
        hub = HubProcess(Path(tmp), extra={"ENODO_HUB_TOKEN": TOKEN}).start()
        ctx = zmq.Context()
        socks = sockets(ctx, hub.address("control"), hub.address("api"))
        try:
            for n, (peer, _socket, msg_type, body) in enumerate(CONVERSATION, 1):
                msg_id = f"wire-{n}"
                try:
                    frames = Codec(f"{peer}-1").encode(
                        Message(MessageType(msg_type), body, msg_id))
                except ProtocolError:  # the old codec would not send it: a peer's own frames
                    header = {"type": msg_type, "id": msg_id, "reply_to": None,
                              "sender": f"{peer}-1"}
                    frames = [PROTOCOL_TAG, b"", dumps(header), dumps(body)]
                answers = exchange(socks[peer], frames, peer, msg_type, msg_id)
                steps.append({"peer": peer, "type": msg_type, "id": msg_id,
                              "frames": [f.decode() for f in frames], "answers": answers})
        finally:
            for sock in socks.values():
                sock.close()
            ctx.term()
            hub.stop()
    path.write_text(json.dumps({"commit": "a9aa14a", "token": TOKEN, "steps": steps},
                               indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    record(Path(sys.argv[1]))
