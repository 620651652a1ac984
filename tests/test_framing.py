"""The framing check on every in-process client catches a wrong Content-Length."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient


def stale_length(request: Request) -> Response:
    """The bug of commit ec85ea0: a body filled in after its length was computed."""
    response = Response("<p>placeholder</p>", media_type="text/html")
    response.body = b"<p>filled in for this visitor</p>"
    return response


def right_length(request: Request) -> Response:
    return Response("<p>whole</p>", media_type="text/html")


def no_content(request: Request) -> Response:
    return Response(status_code=304, headers={"content-length": "12"})


APP = Starlette(
    routes=[
        Route("/stale", stale_length),
        Route("/right", right_length),
        Route("/not-modified", no_content),
    ]
)


def test_a_stale_content_length_is_flagged(framing: list[str]) -> None:
    with TestClient(APP) as client:
        client.get("/stale?x=1")
    assert framing == ["GET /stale?x=1: Content-Length 18, but the body sent was 33 bytes"]
    framing.clear()  # flagged as it should be: this test must not fail for it


def test_right_lengths_head_and_304_pass(framing: list[str]) -> None:
    with TestClient(APP) as client:
        assert client.get("/right").text == "<p>whole</p>"
        assert client.head("/stale").status_code == 200  # HEAD declares the GET's length
        assert client.get("/not-modified").status_code == 304
    assert framing == []
