"""Fixtures for the browser tests: one live server and one Chromium per session, a fresh page
(1440x900) per test, and screenshots of each view under tests/e2e/screenshots/ (git-ignored)."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_or_skip
from tests.e2e.live import CHROMIUM, VIEWPORT, Live, chromium, live_server

SHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    pytest.importorskip("uvicorn")
    with live_server(tmp_path_factory.mktemp("lg-e2e")) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_or_skip(CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    require_or_skip(importlib.util.find_spec("playwright") is not None, "the playwright package is not installed")
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT, bypass_csp=True)  # lets Playwright evaluate strings
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield pg
    finally:
        ctx.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:6]


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
