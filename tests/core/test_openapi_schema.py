"""`/v1/openapi.json` is valid OpenAPI 3, made without warnings, and documents every
operation's errors with the envelope and every list with its envelope key.
(tests/e2e/test_schemathesis.py checks it against what the live server answers.)"""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from openapi_spec_validator import validate

# The lists of docs/api.md, by path: their envelope key.
LISTS = {
    "/v1/sites": "sites",
    "/v1/teams": "teams",
    "/v1/account/keys": "keys",
    "/v1/teams/{team_id}/memberships": "memberships",
    "/v1/teams/{team_id}/audit": "entries",
    "/v1/teams/{team_id}/webhooks": "webhooks",
    "/v1/teams/{team_id}/webhooks/{webhook_id}/deliveries": "deliveries",
    "/v1/sites/{site_id}/deployments": "deployments",
    "/v1/sites/{site_id}/variables": "variables",
    "/v1/sites/{site_id}/domains": "domains",
    "/v1/sites/{site_id}/hooks": "hooks",
    "/v1/sites/frameworks": "frameworks",
    "/v1/sites/specifications": "specifications",
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    """The schema as `manage.py spectacular` writes it, failing on any warning."""
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", path
    )
    return json.loads(path.read_text())


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method.upper(), path, operation


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_every_error_answer_is_the_envelope_with_an_example(schema):
    envelope = schema["components"]["schemas"]["Error"]
    assert set(envelope["required"]) == {"message", "code", "type"}
    for method, path, operation in _operations(schema):
        errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
        assert "400" in errors and "429" in errors, (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        for code, response in errors.items():
            content = response["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (path, code)
            (example,) = content["examples"].values()
            assert example["value"]["code"] == int(code)


def test_authenticated_operations_document_401_and_403(schema):
    public = {"/v1/sites/frameworks", "/v1/sites/specifications", "/v1/edge/tls-ask"}
    for method, path, operation in _operations(schema):
        if path in public or path.startswith("/v1/hooks/"):
            assert "401" not in operation["responses"] or path.startswith("/v1/hooks/git")
            continue
        assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_lists_answer_their_envelope(schema):
    for path, key in LISTS.items():
        answer = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        body = _resolve(schema, answer["schema"])
        assert set(body["required"]) == {"total", key}, path
        assert body["properties"][key]["type"] == "array", path


def test_the_upload_is_multipart_with_a_binary_code_and_chunk_headers(schema):
    operation = schema["paths"]["/v1/sites/{site_id}/deployments"]["post"]
    body = operation["requestBody"]["content"]
    assert list(body) == ["multipart/form-data"]
    form = _resolve(schema, body["multipart/form-data"]["schema"])
    assert form["properties"]["code"] == {
        "type": "string",
        "format": "binary",
        "description": form["properties"]["code"]["description"],
    }
    assert form["properties"]["activate"]["type"] == "boolean"
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"Content-Range", "X-Upload-Id"}


def test_logs_are_text_and_downloads_are_archives(schema):
    deployment = "/v1/sites/{site_id}/deployments/{deployment_id}"
    logs = schema["paths"][f"{deployment}/logs"]["get"]["responses"]["200"]
    assert list(logs["content"]) == ["text/plain"]
    assert {"X-Log-Offset", "X-Log-Size"} <= set(logs["headers"])
    download = schema["paths"][f"{deployment}/download"]["get"]["responses"]["200"]
    assert download["content"] == {
        "application/gzip": {"schema": {"type": "string", "format": "binary"}}
    }


def test_no_operation_answers_a_free_form_object(schema):
    """Every answer has a shape: no `{"type": "object"}` without properties."""
    text = json.dumps(schema["paths"])
    assert not re.search(r'"schema": \{"type": "object"\}', text)
    assert "Unspecified response body" not in text


# What schemathesis found answering null where the schema said a string or a number.
NULLABLE_IN_ANSWERS = {
    "ApiKey": ["expiresAt", "lastUsedAt"],
    "Deployment": ["buildStartedAt", "buildEndedAt", "buildDuration", "errorCode"],
    "Delivery": ["responseStatus", "durationMs", "lastAttemptAt", "nextAttemptAt"],
    "Variable": ["value"],
}


def test_fields_that_answer_null_are_nullable(schema):
    components = schema["components"]["schemas"]
    for component, fields in NULLABLE_IN_ANSWERS.items():
        for field in fields:
            assert components[component]["properties"][field].get("nullable"), (component, field)


def test_a_variable_value_is_nullable_in_answers_only(schema):
    """A secret's value reads as null; a request may not send null."""
    assert not schema["components"]["schemas"]["VariableRequest"]["properties"]["value"].get(
        "nullable"
    )
