"""The API under real gunicorn at its edges: chunked bodies, long URLs, gunicorn's own errors,
the access log."""

from __future__ import annotations

import http.client
import runpy
import socket
from pathlib import Path
from urllib.parse import quote

import pytest
import ujson

from api.server_edges import MAX_ENCODED_NAME, REQUEST_LINE_LIMIT
from tests.api.gunicorn_proc import GUNICORN_CONF, Gunicorn
from tests.api.stub_hub import StubHub, api_handler, series_actions
from tests.support.waiting import wait_for


@pytest.fixture(scope="module")
def access_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gunicorn") / "access.log"


@pytest.fixture(scope="module")
def api(access_log):
    with StubHub(api_handler(series_actions({}))) as hub:
        env = {"ENODO_API_HUB_ADDRESS": hub.endpoint, "ENODO_API_TIMEOUT": "2",
               "ENODO_API_ACCESS_LOG": str(access_log)}
        with Gunicorn("api.wsgi:app", env=env, workers=1) as server:
            yield server


def raw_exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; return status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


def test_chunked_body_is_read(api):
    body = ujson.dumps({"name": "chunked/one", "model": "arima"}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:]))
    status, headers, raw = raw_exchange(api.port, (
        b"POST /series HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"))
    assert status == 201, raw
    assert ujson.loads(raw)["name"] == "chunked/one"
    assert api.request("GET", "/series/chunked%2Fone")[0] == 200


def test_longest_servable_name_round_trips(api):
    name = "n" * MAX_ENCODED_NAME
    assert api.request("POST", "/series", {"name": name})[0] == 201
    path = "/series/" + quote(name, safe="")
    assert api.request("GET", path + "/anomalies?limit=1000")[0] != 414
    assert api.request("GET", path)[0] == 200
    assert api.request("DELETE", path)[0] == 200
    status, _, body = api.request("POST", "/series", {"name": name + "n"})
    assert status == 400 and "request line limit" in body["error"]["message"]


def test_gunicorns_own_errors_are_json(api):
    status, headers, raw = raw_exchange(
        api.port, b"GET /" + b"a" * (REQUEST_LINE_LIMIT + 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 414
    assert headers["content-type"] == "application/json"
    error = ujson.loads(raw)["error"]
    assert error["code"] == "too_large" and "Request Line is too large" in error["message"]
    status, headers, raw = raw_exchange(api.port, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n")
    assert status == 400 and headers["content-type"] == "application/json"
    assert ujson.loads(raw)["error"]["code"] == "invalid"


def test_access_log_is_on_by_default(monkeypatch):
    monkeypatch.delenv("ENODO_API_ACCESS_LOG", raising=False)
    assert runpy.run_path(str(GUNICORN_CONF))["accesslog"] == "-"  # stdout: supervisord's log
    monkeypatch.setenv("ENODO_API_ACCESS_LOG", "off")
    assert runpy.run_path(str(GUNICORN_CONF))["accesslog"] is None


def test_access_log_lines(api, access_log):
    api.request("GET", "/health")
    wait_for(lambda: '"GET /health HTTP/1.1" 200' in access_log.read_text(),
             timeout=5, what="an access log line for GET /health")
