"""The OpenAPI schema declares what the API answers; the fuzzing through the real server is
`test_schemathesis.py`, these are the quick in-process checks."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from shiporskip.runtime import Runtime
from shiporskip.web.app import create_app


def test_every_api_operation_declares_its_refusals(sqlite_runtime: Runtime) -> None:
    """A new route without `responses=errors(...)` would answer statuses its schema does
    not list (at least 400, for a NUL in the query string, which every route may get)."""
    schema = create_app(sqlite_runtime).openapi()
    bare = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "400" not in operation["responses"]
    ]
    assert not bare, f"declare the refusals with web/openapi.py's errors(): {bare}"
    error = schema["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["error"]


def test_bodies_read_by_hand_are_in_the_schema(sqlite_runtime: Runtime) -> None:
    schema = create_app(sqlite_runtime).openapi()
    for path in (
        "/api/v1/tools/{slug}/vote",
        "/api/v1/submissions",
        "/api/v1/admin/submissions/{submission_id}/reject",
        "/api/v1/admin/votes/void",
    ):
        body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        # The model's own definitions are written out: a "#/$defs/..." pointer would
        # resolve against the whole document and name nothing.
        assert "$defs" not in json.dumps(body["schema"]), path
    submission = schema["paths"]["/api/v1/submissions"]["post"]["requestBody"]
    properties = submission["content"]["application/json"]["schema"]["properties"]
    assert {"name", "pricing", "submitter_email"} <= properties.keys()
    assert properties["pricing"]["properties"]["plans"]["items"]["type"] == "object"


def test_a_request_failing_validation_says_why_in_error(sqlite_runtime: Runtime) -> None:
    """Regression: FastAPI's own 422 was only a `detail` list, while every other refusal of
    the API is `{"error": sentence}`."""
    client = TestClient(create_app(sqlite_runtime))
    answer = client.post("/api/v1/newsletter", json={"email": "x" * 3000})
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == (
        "the request is not valid (body.email: String should have at most 2000 characters); "
        "fix it and send it again"
    )
    assert body["detail"][0]["loc"] == ["body", "email"]
    assert len(answer.content) < 1000
