"""The UI router: the page and its modules with the right content types, ETags and 304s, and no
file outside static/ (no browser needed)."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_index_and_modules(app_client: TestClient) -> None:
    r = app_client.get("/ui/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-cache"
    js = app_client.get("/ui/js/main.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    again = app_client.get("/ui/js/main.js", headers={"If-None-Match": js.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert app_client.get("/ui/app.css").headers["content-type"].startswith("text/css")


def test_no_escape_from_static(app_client: TestClient) -> None:
    for path in ("/ui/../ui.py", "/ui/../static/../ui.py", "/ui/%2e%2e/ui.py", "/ui/js/nope.js", "/ui/../../pyproject.toml"):
        assert app_client.get(path).status_code == 404, path
