"""A real Labelgate server on a free loopback port (uvicorn in a thread, SQLite in a temporary
directory), Debian's Chromium driven by Playwright, and helpers that seed projects through the
service layer. Shared by the e2e tests and ``benchmarks/ui/run.py``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1440, "height": 900}
FAST_HASH = {"argon2_time_cost": 1, "argon2_memory_kib": 64}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Live:
    url: str
    rt: Any  # labelgate.server.Runtime

    def user(self, name: str, superuser: bool = False) -> Any:
        from labelgate.server.services import auth

        return auth.create_user(self.rt, None, name, password(name), superuser)

    def token(self, user: Any) -> str:
        from labelgate.server.services import auth

        _, secret = auth.create_token(self.rt, user, "e2e")
        return str(secret)

    def client(self, user: Any) -> Any:
        from labelgate.client import Client

        return Client(self.url, self.token(user))


def password(name: str) -> str:
    return f"pw-{name}-secret"


@contextmanager
def live_server(data_dir: Path) -> Iterator[Live]:
    import uvicorn

    from labelgate.server import Runtime, Settings, create_app

    rt = Runtime.open(Settings(data_dir=data_dir, **FAST_HASH))
    port = free_port()
    config = uvicorn.Config(create_app(runtime=rt), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the test server did not start on port {port}")
        time.sleep(0.02)
    try:
        yield Live(f"http://127.0.0.1:{port}", rt)
    finally:
        server.should_exit = True
        thread.join(10)
        rt.close()


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def shelf_image(path: Path, width: int = 960, height: int = 640, seed: int = 0) -> None:
    """A generated shelf picture (coloured product blocks), so boxes have something to sit on."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 235, np.uint8)
    for row in range(4):
        y0 = 20 + row * (height // 4)
        img[y0 + height // 4 - 30: y0 + height // 4 - 22, :] = (120, 90, 60)
        x = 10
        while x < width - 60:
            w = int(rng.integers(30, 90))
            img[y0: y0 + height // 4 - 34, x: x + w] = rng.integers(40, 220, 3)
            x += w + int(rng.integers(4, 14))
    Image.fromarray(img).save(path)


def image_project(live: Live, admin: Any, media: Path, n_images: int = 3, schema: dict[str, Any] | None = None,
                  name: str = "shelves", size: tuple[int, int] = (960, 640)) -> int:
    """A project whose media are ``n_images`` generated images in ``media`` (registered in place)."""
    from labelgate.server.services import imports, projects

    media.mkdir(parents=True, exist_ok=True)
    for i in range(n_images):
        shelf_image(media / f"shelf{i:03d}.png", *size, seed=i)
    p = projects.create_project(live.rt, admin, name, "generated retail shelves",
                                schema or {"classes": [{"name": "Product"}, {"name": "Price tag"}, {"name": "Empty slot"}]},
                                {"media_dir": str(media)})
    imports.create_tasks(live.rt, admin, p.id, [
        {"id": f"shelf{i:03d}", "media": f"shelf{i:03d}.png", "width": size[0], "height": size[1]} for i in range(n_images)])
    return int(p.id)


def member(live: Live, admin: Any, project_id: int, user: Any, role: str) -> None:
    from labelgate.server.domain import Role
    from labelgate.server.services import projects

    projects.set_member(live.rt, admin, project_id, user.username, Role(role))


def login(page: Any, url: str, username: str) -> None:
    page.goto(url + "/ui/#/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password(username))
    page.click("button[type=submit]")
    page.wait_for_selector("#whoami >> text=" + username)
