"""GET /openapi.json: an OpenAPI 3 document of every route and method the app serves."""

from __future__ import annotations

import pytest
import schemathesis

from api.app import create_app
from api.hub_client import HubClient, HubError
from api.openapi import GENERIC, openapi_document, routes
from tests.api.state_hub import StateHub


def test_the_document_lists_every_route_the_app_serves_and_describes_each(client):
    status_doc = client.simulate_get("/openapi.json")
    assert status_doc.status_code == 200
    document = status_doc.json
    assert document["openapi"].startswith("3.")
    served = {(method, path): resource
              for method, path, resource in routes(create_app(StateHub(None)))}
    listed = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    assert listed == set(served)
    assert ("GET", "/series/{name}") in served and ("POST", "/settings") in served
    undescribed = sorted(r for r, resource in served.items() if r[0] not in resource.DOC)
    assert not undescribed, f"describe these routes in their resource's DOC: {undescribed}"
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
    assert len(operations) == len(list(routes(create_app(StateHub(None)))))


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


def _body_schema(document: dict, method: str, path: str):
    import jsonschema_rs  # schemathesis's validator

    schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    return jsonschema_rs.Draft202012Validator(
        {"components": document["components"], **schema["schema"]})


@pytest.mark.parametrize(("body", "accepted"), [
    ({"name": "cpu"}, True),
    ({"name": "cpu", "model": 2, "realtime": True, "model_parameters": {"n_changepoints": 3}},
     True),
    ({"name": "cpu", "anomaly": {"direction": "above", "k": 2, "n": 3}}, True),
    ({"name": "cpu", "anomaly": {"direction": "up"}}, False),
    ({"name": "cpu", "colour": "red"}, False),
    ({"name": ""}, False),
    ({"model": "arima"}, False),
])
def test_the_published_series_body_is_the_one_the_api_takes(client, body, accepted):
    # The issue that typed the protocol: the document refused an `anomaly` the API took.
    document = client.simulate_get("/openapi.json").json
    valid = _body_schema(document, "post", "/series").is_valid(body)
    status = client.simulate_post("/series", json=body).status_code
    assert valid is accepted
    assert status == (201 if accepted else 400)


def test_the_settings_schema_is_the_protocol_table(client):
    from protocol.settings import KEYS, defaults

    document = client.simulate_get("/openapi.json").json
    settings = document["components"]["schemas"]["RuntimeSettings"]
    assert sorted(settings["properties"]) == sorted(KEYS) == sorted(settings["required"])
    assert {k: p["default"] for k, p in settings["properties"].items()} == defaults()
    change = _body_schema(document, "post", "/settings")
    assert change.is_valid({"horizon": 48}) and not change.is_valid({"horizon": 0})
    assert not change.is_valid({}) and not change.is_valid({"nope": 1})
