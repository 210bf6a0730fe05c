"""Assertions shared by the REST tests."""

from __future__ import annotations

from falcon import testing


def assert_error(result: testing.Result, status: int, code: str) -> str:
    """Check the one error shape; return the message."""
    assert result.status_code == status, result.text
    assert result.headers["content-type"].startswith("application/json")
    assert set(result.json) == {"error"}
    assert set(result.json["error"]) == {"code", "message"}
    assert result.json["error"]["code"] == code
    message = result.json["error"]["message"]
    assert isinstance(message, str) and message
    return message
