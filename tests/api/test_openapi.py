"""GET /openapi.json: an OpenAPI 3 document of every route and method the app serves."""

from __future__ import annotations

import pytest
import schemathesis

from api.app import create_app
from api.hub_client import HubClient, HubError
from api.openapi import GENERIC, OPERATIONS, openapi_document, routes
from tests.api.state_hub import StateHub


def test_the_document_lists_every_route_the_app_serves_and_describes_each(client):
    status_doc = client.simulate_get("/openapi.json")
    assert status_doc.status_code == 200
    document = status_doc.json
    assert document["openapi"].startswith("3.")
    served = set(routes(create_app(StateHub(None))))
    listed = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert listed == served
    assert ("GET", "/series/{name}") in served and ("POST", "/settings") in served
    undescribed = sorted(route for route in served if route not in OPERATIONS)
    assert not undescribed, f"describe these routes in api/openapi.py OPERATIONS: {undescribed}"
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            assert operation is not GENERIC
            errors = {code for code in operation["responses"] if code >= "400"}
            assert {"500", "503"} <= errors, (method, path)
            for code in errors:
                schema = operation["responses"][code]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}


def test_the_document_is_valid_openapi():
    schema = schemathesis.openapi.from_dict(openapi_document(create_app(StateHub(None))))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(set(routes(create_app(StateHub(None)))))


def test_with_a_bearer_token_the_document_says_so():
    document = openapi_document(create_app(StateHub(None)), bearer=True)
    assert document["security"] == [{"bearer": []}]
    assert document["paths"]["/openapi.json"]["get"]["security"] == []
    assert "401" in document["paths"]["/series"]["get"]["responses"]


def test_a_body_the_wire_cannot_carry_is_refused_as_invalid_before_sending():
    # Found by schemathesis: the hub refused such a message as malformed, which the API
    # reports as 500; the API's own codec now refuses it first, as the client's error (400).
    hub = HubClient("tcp://127.0.0.1:9", timeout=0.5)
    try:
        with pytest.raises(HubError) as caught:
            hub.request("add_series", {"name": "x", "model_parameters": {"big": 2**64}})
    finally:
        hub.close()
    assert caught.value.code == "invalid"
