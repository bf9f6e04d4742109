"""Health, OpenAPI, error bodies, login with cookie, API tokens, rate limiting, user admin."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from labelgate.server import create_app
from tests.integration.conftest import World


def _is_error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_root_opens_the_ui_and_the_api_docs_stay_reachable(app_client: TestClient) -> None:
    r = app_client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/ui/"
    assert "swagger" in app_client.get("/api/v1/docs").text.lower()


def test_health_and_openapi(app_client: TestClient) -> None:
    h = app_client.get("/api/v1/health").json()
    assert h["status"] == "ok" and h["database"] in ("sqlite", "postgresql")
    doc = app_client.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Labelgate"
    for path in ("/api/v1/projects", "/api/v1/annotations/{annotation_id}", "/api/v1/jobs/{job_id}",
                 "/api/v1/projects/{project_id}/exports", "/api/v1/auth/login"):
        assert path in doc["paths"], path


def test_error_bodies_are_uniform(app_client: TestClient, world: World) -> None:
    _is_error(app_client.get("/api/v1/projects"), 401, "unauthenticated")
    _is_error(app_client.get("/api/v1/projects", headers={"Authorization": "Token lgt_nope"}), 401, "unauthenticated")
    _is_error(app_client.get("/api/v1/nowhere"), 404, "not_found")
    h = world["superuser"].headers
    _is_error(app_client.get("/api/v1/projects/999999", headers=h), 404, "not_found")
    err = _is_error(app_client.post("/api/v1/projects", headers=h, json={"name": 5}), 422, "validation_error")
    assert err["detail"][0]["loc"] == ["body", "name"]
    _is_error(app_client.post("/api/v1/projects", headers=h, json={"name": "x", "label_schema": {"classes": [{}]}}),
              422, "invalid")


def test_login_sets_http_only_cookie_and_logout_ends_it(runtime, world: World) -> None:
    name = world["annotator"].name
    with TestClient(create_app(runtime=runtime)) as c:
        r = c.post("/api/v1/auth/login", json={"username": name, "password": "password-" + name})
        assert r.status_code == 200, r.text
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert c.get("/api/v1/auth/me").json()["username"] == name
        assert c.post("/api/v1/auth/logout").status_code == 200
        _is_error(c.get("/api/v1/auth/me"), 401, "unauthenticated")


def test_wrong_password_and_rate_limit(runtime, world: World) -> None:
    name = world["reviewer"].name
    with TestClient(create_app(runtime=runtime)) as c:
        limit = runtime.settings.login_attempts
        for _ in range(limit):
            _is_error(c.post("/api/v1/auth/login", json={"username": name, "password": "wrong-password"}),
                      401, "unauthenticated")
        r = c.post("/api/v1/auth/login", json={"username": name, "password": "password-" + name})
        _is_error(r, 429, "rate_limited")
        assert int(r.headers["Retry-After"]) >= 1
    runtime.login_limiter.reset(f"user:{name}", "client:testclient")


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(app_client: TestClient, world: World) -> None:
    h = world["manager"].headers
    r = app_client.post("/api/v1/auth/tokens", headers=h, json={"name": "ci"})
    assert r.status_code == 201
    tok = r.json()
    assert tok["token"].startswith("lgt_")
    listed = app_client.get("/api/v1/auth/tokens", headers=h).json()
    assert all("token" not in t for t in listed)
    assert any(t["id"] == tok["id"] for t in listed)
    mine = {"Authorization": f"Token {tok['token']}"}
    assert app_client.get("/api/v1/auth/me", headers=mine).status_code == 200
    assert app_client.delete(f"/api/v1/auth/tokens/{tok['id']}", headers=h).status_code == 204
    _is_error(app_client.get("/api/v1/auth/me", headers=mine), 401, "unauthenticated")
    import sqlalchemy as sa

    from labelgate.server.db.tables import api_tokens

    with world.rt.db.read() as conn:
        stored = conn.execute(sa.select(api_tokens.c.token_hash).where(api_tokens.c.id == tok["id"])).scalar_one()
    assert tok["token"] not in stored and len(stored) == 64


def test_only_superusers_create_users(app_client: TestClient, world: World) -> None:
    name = f"new_{uuid.uuid4().hex[:6]}"
    body = {"username": name, "password": "long-enough-pw"}
    _is_error(app_client.post("/api/v1/users", headers=world["admin"].headers, json=body), 403, "forbidden")
    r = app_client.post("/api/v1/users", headers=world["superuser"].headers, json=body)
    assert r.status_code == 201 and r.json()["username"] == name
    _is_error(app_client.post("/api/v1/users", headers=world["superuser"].headers, json=body), 409, "conflict")
    short = {"username": name + "x", "password": "short"}
    assert "at least 8" in _is_error(app_client.post("/api/v1/users", headers=world["superuser"].headers, json=short),
                                     422, "invalid")["message"]


def test_change_password_and_deactivate(runtime, world: World) -> None:
    name = world["annotator2"].name
    with TestClient(create_app(runtime=runtime)) as c, TestClient(create_app(runtime=runtime)) as other:
        for client in (c, other):
            assert client.post("/api/v1/auth/login", json={"username": name, "password": "password-" + name}).status_code == 200
        r = c.post("/api/v1/auth/password", json={"current": "nope", "new": "brand-new-password"})
        _is_error(r, 403, "forbidden")
        _is_error(c.post("/api/v1/auth/password", json={"current": "password-" + name, "new": "short"}), 422, "invalid")
        assert c.post("/api/v1/auth/password", json={"current": "password-" + name, "new": "brand-new-password"}).status_code == 200
        assert c.get("/api/v1/auth/me").status_code == 200  # this session stays
        _is_error(other.get("/api/v1/auth/me"), 401, "unauthenticated")  # the other one ended
        _is_error(c.post("/api/v1/auth/login", json={"username": name, "password": "password-" + name}), 401, "unauthenticated")
    runtime.login_limiter.reset(f"user:{name}", "client:testclient")
    with TestClient(create_app(runtime=runtime)) as c:
        su = world["superuser"].headers
        uid = world["annotator2"].user.id
        _is_error(c.patch(f"/api/v1/users/{uid}", headers=world["admin"].headers, json={"is_active": False}), 403, "forbidden")
        assert c.patch(f"/api/v1/users/{uid}", headers=su, json={"is_active": False}).json()["is_active"] is False
        _is_error(c.get("/api/v1/auth/me", headers=world["annotator2"].headers), 401, "unauthenticated")  # tokens stop too
        assert c.patch(f"/api/v1/users/{uid}", headers=su, json={"is_active": True}).status_code == 200
        assert c.get("/api/v1/auth/me", headers=world["annotator2"].headers).status_code == 200


def test_cross_site_writes_with_the_session_cookie_are_refused(runtime, world: World,
                                                               monkeypatch) -> None:  # type: ignore[no-untyped-def]
    name = world["annotator"].name
    login = {"username": name, "password": "password-" + name}
    evil = {"Origin": "https://evil.example"}
    with TestClient(create_app(runtime=runtime)) as c:
        err = _is_error(c.post("/api/v1/auth/login", json=login, headers=evil), 403, "forbidden")
        assert "cross-site" in err["message"] and "evil.example" in err["message"]
        assert c.post("/api/v1/auth/login", json=login, headers={"Origin": "http://testserver"}).status_code == 200
        token = {"name": "from the page"}
        _is_error(c.post("/api/v1/auth/tokens", json=token, headers=evil), 403, "forbidden")
        _is_error(c.post("/api/v1/auth/tokens", json=token, headers={"Referer": "https://evil.example/x?y"}),
                  403, "forbidden")
        _is_error(c.post("/api/v1/auth/tokens", json=token, headers={"Origin": "null"}), 403, "forbidden")
        assert c.get("/api/v1/auth/me", headers=evil).status_code == 200  # reads are not writes
        assert c.post("/api/v1/auth/tokens", json=token, headers={"Origin": "http://TestServer"}).status_code == 201
        assert c.post("/api/v1/auth/tokens", json=token).status_code == 201  # no Origin: not a browser's page
        # an API token is no ambient authority: another origin may use it (the caller had to know it)
        bare = TestClient(create_app(runtime=runtime))
        assert bare.post("/api/v1/auth/tokens", json=token, headers={**evil, **world["annotator"].headers}).status_code == 201
        # a default port on either side: the same origin (the Host header has no scheme behind a TLS proxy)
        assert c.post("/api/v1/auth/tokens", json=token,
                      headers={"Host": "lg.example:443", "Origin": "https://LG.example"}).status_code == 201
        assert c.post("/api/v1/auth/tokens", json=token,
                      headers={"Host": "[::1]", "Origin": "http://[::1]:80"}).status_code == 201
        _is_error(c.post("/api/v1/auth/tokens", json=token, headers={"Host": "lg.example:8443", "Origin": "https://lg.example"}),
                  403, "forbidden")
        monkeypatch.setattr(runtime.settings, "trusted_origins", "https://ui.example, https://Evil.example:443/")
        assert c.post("/api/v1/auth/tokens", json=token, headers=evil).status_code == 201
        _is_error(c.post("/api/v1/auth/logout", headers={"Origin": "https://elsewhere.example"}), 403, "forbidden")
        assert c.get("/api/v1/auth/me").status_code == 200  # the refused logout ended nothing
    with runtime.db.read() as conn:
        from labelgate.server.db.repos import users as users_repo

        names = [t["name"] for t in users_repo.list_tokens(conn, world["annotator"].user.id)]
    assert names.count("from the page") == 6  # the refused ones stored nothing


def test_trusted_origins_must_be_origins() -> None:
    import pytest
    from pydantic import ValidationError

    from labelgate.server.settings import Settings

    assert Settings(trusted_origins="https://ui.example.com, http://10.0.0.5:8080/").trusted_origins
    for bad in ("ui.example.com", "https://ui.example.com/app", "ftp://ui.example.com", "https://ui.example.com:x"):
        with pytest.raises(ValidationError, match="not an origin"):
            Settings(trusted_origins=bad)
