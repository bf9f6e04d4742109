"""Browser measurements of the annotation UI, in Debian's Chromium driven by Playwright.

1. "Next task" to an interactive canvas: from the moment the annotator asks for the next task
   (performance.now() in the page) to the first frame drawn with the image, regions and input
   handlers in place (the view's rAF after setup). Includes the next-task, task, project and
   guideline requests, the image fetch and decode, on a live server on 127.0.0.1 (SQLite).
2. Panning an image (1920x1080) carrying 2,000 boxes: requestAnimationFrame deltas while the
   pointer pans with the middle button; the time of one pan frame (a blit of the cached layer)
   and of one full render (image + every box), each forced to rasterise with getImageData.

Usage: .venv/bin/python benchmarks/ui/run.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.e2e.live import VIEWPORT, chromium, image_project, live_server, login, member  # noqa: E402

N_BOXES = 2000


def boxes(n: int, w: int, h: int) -> list[dict[str, Any]]:
    import numpy as np

    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        bw, bh = rng.uniform(12, 90, 2)
        x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
        out.append({"id": i + 1, "label": ["Product", "Price tag", "Empty slot"][i % 3],
                    "geometry": {"type": "box", "x1": round(x, 2), "y1": round(y, 2),
                                 "x2": round(x + bw, 2), "y2": round(y + bh, 2)}})
    return out


def time_next_task(page: Any, url: str, pid: int, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        page.goto(f"{url}/ui/#/projects/{pid}")
        page.wait_for_selector("#start-labelling")
        page.evaluate("() => { document.body.dataset.ready = ''; window.__lg.tClick = performance.now(); }")
        page.click("#start-labelling")
        page.wait_for_function("document.body.dataset.ready && window.__lg.timing && window.__lg.timing.interactive")
        out.append(float(page.evaluate("window.__lg.timing.interactive - window.__lg.tClick")))
    return out


def pan_frames(page: Any) -> tuple[list[float], list[float], list[float]]:
    page.wait_for_function("document.body.dataset.ready && window.__lg.editor")
    n = page.evaluate("window.__lg.editor.regions.length")
    assert n == N_BOXES, n
    page.evaluate("""() => { const d = []; let last = performance.now(); window.__lgFrames = d; window.__lgRun = true;
        const tick = (t) => { d.push(t - last); last = t; if (window.__lgRun) requestAnimationFrame(tick); };
        requestAnimationFrame(tick); }""")
    box = page.locator("#canvas").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down(button="middle")
    for k in range(240):
        page.mouse.move(cx + 200 * ((k % 60) / 60 - 0.5), cy + 80 * ((k % 40) / 40 - 0.5))
    page.mouse.up(button="middle")
    page.evaluate("() => { window.__lgRun = false; }")
    frames = [float(x) for x in page.evaluate("window.__lgFrames")[2:]]
    measure = """(full) => { const ed = window.__lg.editor; const ctx = ed.canvas.getContext("2d"); const out = [];
        for (let i = 0; i < 40; i++) { ed.view.pan(1, 0); if (full) ed._layerKey = null;
          const t = performance.now(); ed.draw(); ctx.getImageData(0, 0, 1, 1); out.push(performance.now() - t); }
        return out; }"""
    pans = [float(x) for x in page.evaluate(measure, False)]
    fulls = [float(x) for x in page.evaluate(measure, True)]
    return frames, pans, fulls


def q(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(p * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp) / "data") as live, chromium() as browser:
        admin = live.user("bench_admin", superuser=True)
        ann = live.user("bench_ann")
        pid = image_project(live, admin, Path(tmp) / "media", n_images=args.runs + 2, name="ui bench", size=(1920, 1080))
        member(live, admin, pid, ann, "annotator")
        with live.client(admin) as c:
            c.add_guidelines(pid, "# Products\n- Box every whole product.")
        heavy = image_project(live, admin, Path(tmp) / "media2", n_images=1, name="ui bench 2000", size=(1920, 1080))
        member(live, admin, heavy, ann, "annotator")
        with live.client(ann) as c:
            t = c.next_task(heavy)
            assert t is not None
            c.create_annotation(t["id"], boxes(N_BOXES, 1920, 1080), submit=False)

        ctx = browser.new_context(viewport=VIEWPORT, bypass_csp=True)
        page = ctx.new_page()
        login(page, live.url, ann.username)
        # next-task: every run submits nothing, so each click takes (and keeps) the same reserved
        # task; the first run also loads the view's modules.
        times = time_next_task(page, live.url, pid, args.runs)
        page.goto(f"{live.url}/ui/#/tasks/{t['id']}")
        page.wait_for_function(f"document.body.dataset.ready === '{t['id']}'")
        frames, pans, fulls = pan_frames(page)
        ctx.close()

    print(f"next task -> interactive canvas, ms (n={len(times)}): first {times[0]:.0f}, "
          f"median {statistics.median(times):.0f}, p90 {q(times, 0.9):.0f}, max {max(times):.0f}")
    print(f"panning {N_BOXES} boxes, rAF frame time ms (n={len(frames)}): median {statistics.median(frames):.1f}, "
          f"p95 {q(frames, 0.95):.1f}")
    for name, xs in (("one pan frame (blit of the cached layer)", pans), ("one full render of image + boxes", fulls)):
        print(f"{name}, rasterised (getImageData), ms (n={len(xs)}): median {statistics.median(xs):.2f}, "
              f"p95 {q(xs, 0.95):.2f}")


if __name__ == "__main__":
    main()
