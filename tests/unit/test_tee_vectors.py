"""Tee packages recorded from SiriDB 2.0.55 (siridb_vectors.json) and the SIRIDB.md samples."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import pytest

from actors.listener.tee import (
    HEADER,
    TeeFramer,
    count_points,
    decode_counts,
    decode_points,
    encode_package,
    raw_name,
)

# From SIRIDB.md, "The tee".
DOC_SAMPLES = [
    (
        "1000000000000000fd87726f6275737400fcefe9112701fe",
        {"robust": [[10001, 1]]},
    ),
    (
        "4500000000000000fd896370752e6c6f616400fcefeb88febc20a2010000ec0000000000000440efebecfe"
        "bc20a201000002fe8c74656d702d73656e736f7200fcefeb87febc20a201000015fe",
        {
            "cpu.load": [[1795845586568, 2.5], [1795845586668, 2]],
            "temp-sensor": [[1795845586567, 21]],
        },
    ),
]


VECTORS = Path(__file__).resolve().parents[1] / "data" / "siridb_vectors.json"


@cache
def recorded_packages() -> list[tuple[str, bytes, dict]]:
    """(case name, whole package, expected points by name) for each forwarded tee case."""
    out = []
    for case in json.loads(VECTORS.read_text())["tee"]:
        if not case["forwarded"]:
            continue
        if case.get("package_truncated"):
            # Stored as a prefix + sha256: rebuild from the insert and prove it byte-identical.
            package = encode_package(case["insert"])
            assert hashlib.sha256(package[HEADER.size :]).hexdigest() == case["body_sha256"]
            assert package.hex().startswith(case["package"])
            expected = case["insert"]
        else:
            package = bytes.fromhex(case["package"])
            expected = {k.removesuffix("\x00"): v for k, v in case["decoded"].items()}
        out.append((case["name"], package, expected))
    return out


def all_packages() -> list[tuple[str, bytes, dict]]:
    """Recorded packages plus the SIRIDB.md samples."""
    docs = [(f"siridb_md_{i}", bytes.fromhex(h), exp) for i, (h, exp) in enumerate(DOC_SAMPLES)]
    return docs + recorded_packages()


def package_params() -> list:
    return [pytest.param(package, expected, id=name) for name, package, expected in all_packages()]


def test_recorded_vectors_are_present():
    assert len(recorded_packages()) == 9  # every forwarded tee case of the recording


@pytest.mark.parametrize("package,expected", package_params())
def test_package_decodes_to_the_recorded_points(package, expected):
    length, pid, tp, check = HEADER.unpack_from(package)
    assert (length, pid, tp, check) == (len(package) - HEADER.size, 0, 0, 0)
    [body] = list(TeeFramer().feed(package))
    assert decode_points(body) == expected
    assert decode_counts(body) == {n: len(p) for n, p in expected.items()}
    assert count_points(body) == {raw_name(n): len(p) for n, p in expected.items()}


@pytest.mark.parametrize("package,expected", package_params())
def test_encode_package_writes_what_siridb_writes(package, expected):
    assert encode_package(expected) == package
