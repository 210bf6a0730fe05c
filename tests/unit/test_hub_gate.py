"""PreHandshakeGate: small budgets for peers that have not handshaken, none for known ones."""

from __future__ import annotations

from actors.hub import gate as gate_module
from actors.hub.gate import MAX_UNKNOWN_SIZE, PER_PEER, TOTAL_PER_SECOND, PreHandshakeGate


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(known=()):
    clock = Clock()
    return PreHandshakeGate(lambda identity: True if identity in known else None, clock), clock


def test_known_peers_pass_whatever_they_send():
    gate, _ = make(known={b"listener"})
    big = [b"x" * (MAX_UNKNOWN_SIZE * 4)]
    assert all(gate.admit([b"listener"], big) for _ in range(10_000))
    assert len(gate) == 0


def test_an_unknown_peer_gets_a_few_small_messages_per_window():
    gate, clock = make()
    assert not gate.admit([b"a"], [b"x" * (MAX_UNKNOWN_SIZE + 1)])
    assert [gate.admit([b"a"], [b"hs"]) for _ in range(PER_PEER + 5)] == \
        [True] * PER_PEER + [False] * 5
    clock.now += gate_module.PER_PEER_WINDOW
    assert gate.admit([b"a"], [b"hs"])
    assert gate.dropped == {"too_large": 1, "peer_budget": 5, "total_budget": 0}


def test_all_unknown_peers_share_a_budget_per_second():
    gate, clock = make()
    admitted = sum(gate.admit([b"peer-%d" % n], [b"hs"]) for n in range(TOTAL_PER_SECOND * 3))
    assert admitted == TOTAL_PER_SECOND
    clock.now += 1.0
    assert gate.admit([b"new"], [b"hs"])


def test_the_table_of_unknown_identities_is_bounded():
    gate = PreHandshakeGate(lambda identity: None, Clock(), total_per_second=10**9,
                            max_tracked=64)
    for n in range(10_000):
        gate.admit([b"peer-%d" % n], [b"hs"])
    assert len(gate) == 64
