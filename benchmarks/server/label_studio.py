"""Label Studio side by side with the server benchmark: the same N images x K pre-annotated boxes
(model predictions), imported through Label Studio's API and exported to its JSON, on SQLite.

    python3 -m venv benchmarks/_venvs/label-studio
    benchmarks/_venvs/label-studio/bin/pip install label-studio
    .venv/bin/python benchmarks/server/label_studio.py --tasks 100000 --boxes 10

Label Studio runs as its own process on loopback (``label-studio start``, its default Django server)
with a fresh data directory; import is one ``POST /api/projects/{id}/import`` of the whole task list
(Label Studio's JSON with ``predictions``), timed until the response; export is
``GET /api/projects/{id}/export?exportType=JSON&download_all_tasks=true``, timed until the last byte.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson

ROOT = Path(__file__).resolve().parents[2]
LS = ROOT / "benchmarks/_venvs/label-studio/bin/label-studio"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
CLASSES = ["Product", "Price tag", "Empty slot"]
CONFIG = ("<View><Image name='image' value='$image'/><RectangleLabels name='label' toName='image'>"
          + "".join(f"<Label value='{c}'/>" for c in CLASSES) + "</RectangleLabels></View>")


def tasks_json(n_images: int, boxes: int, seed: int = 0) -> bytes:
    """The same boxes as ``generate.generate_coco`` (same generator, same draws), as Label Studio tasks
    with one prediction each; coordinates in percent of the 640 x 640 image."""
    rng = np.random.default_rng(seed)
    n = n_images * boxes
    xy = rng.uniform(0, 600, (n, 2)).round(1)
    wh = rng.uniform(5, 40, (n, 2)).round(1)
    cats = rng.integers(1, len(CLASSES) + 1, n).tolist()
    scores = rng.uniform(0.3, 1.0, n).round(3).tolist()
    pct = (np.hstack([xy, wh]) / 640 * 100).tolist()
    out: list[dict[str, Any]] = []
    for i in range(n_images):
        result = [{"id": f"r{j}", "from_name": "label", "to_name": "image", "type": "rectanglelabels",
                   "original_width": 640, "original_height": 640, "score": scores[j],
                   "value": {"x": pct[j][0], "y": pct[j][1], "width": pct[j][2], "height": pct[j][3], "rotation": 0,
                             "rectanglelabels": [CLASSES[cats[j] - 1]]}}
                  for j in range(i * boxes, (i + 1) * boxes)]
        out.append({"data": {"image": f"/data/local-files/?d=img_{i:07d}.jpg"},
                    "predictions": [{"model_version": "bench", "result": result}]})
    return orjson.dumps(out)


def _rss_mb(pid: int) -> float:
    """Peak resident memory of the process and its children (Label Studio's server is a child)."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
        except (FileNotFoundError, StopIteration):
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [int(k) for k in kids] + [g for k in kids for g in _children(int(k))]


def measure(url: str, n_images: int, boxes: int) -> dict[str, Any]:
    """Import and export on a running Label Studio whose user has the token ``TOKEN``."""
    body = tasks_json(n_images, boxes)
    with httpx.Client(base_url=url, headers={"Authorization": f"Token {TOKEN}"}, timeout=3600) as c:
        p = c.post("/api/projects", json={"title": "bench", "label_config": CONFIG})
        p.raise_for_status()
        pid = p.json()["id"]
        t = time.perf_counter()
        r = c.post(f"/api/projects/{pid}/import", content=body, headers={"Content-Type": "application/json"})
        r.raise_for_status()
        t_import = time.perf_counter() - t
        imported = r.json()
        print(f"import of {n_images:,} tasks: {t_import:.1f} s ({imported})", flush=True)  # before the long export
        t = time.perf_counter()
        size = 0
        with c.stream("GET", f"/api/projects/{pid}/export", params={"exportType": "JSON", "download_all_tasks": "true"}) as resp:
            resp.raise_for_status()
            for chunk in resp.iter_bytes():
                size += len(chunk)
        t_export = time.perf_counter() - t
    return {"tasks": n_images, "boxes": n_images * boxes, "import_s": t_import, "export_s": t_export,
            "export_mb": size / 1e6, "task_count": imported.get("task_count"),
            "prediction_count": imported.get("prediction_count")}


def run(n_images: int, boxes: int, port: int) -> dict[str, Any]:
    """Start a fresh Label Studio (its own data directory, SQLite), measure, stop it."""
    if not LS.exists():
        sys.exit(f"{LS} is missing: install Label Studio into its own venv first (see this file's docstring)")
    with tempfile.TemporaryDirectory(prefix="ls-bench-") as tmp:
        # the token given at start is a "legacy" token, refused unless enabled; no analytics calls out
        env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": tmp, "DJANGO_DB": "sqlite",
               "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true", "COLLECT_ANALYTICS": "false",
               "DATA_UPLOAD_MAX_MEMORY_SIZE": str(4 << 30)}  # 100k tasks x 10 boxes is ~300 MB of JSON; the default cap is 250 MB
        t = time.perf_counter()
        proc = subprocess.Popen([str(LS), "start", "--no-browser", "--host", "127.0.0.1", "--port", str(port),
                                 "--internal-host", "127.0.0.1", "--username", "bench@example.com",
                                 "--password", "bench-password", "--user-token", TOKEN],
                                env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(1)
            else:
                raise RuntimeError("Label Studio did not start within 900 s")
            t_start = time.perf_counter() - t
            measure(url, 100, boxes)  # a small round first: checks the calls and warms the server up
            out = measure(url, n_images, boxes)
            rss = _rss_mb(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {**out, "start_s": t_start, "peak_rss_mb": rss}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--boxes", type=int, default=10)
    ap.add_argument("--port", type=int, default=18090)
    ap.add_argument("--url", help="a running Label Studio whose user has this file's TOKEN (else one is started)")
    args = ap.parse_args()
    r = measure(args.url, args.tasks, args.boxes) if args.url else run(args.tasks, args.boxes, args.port)
    print(orjson.dumps(r).decode())
    print("| tool | tasks | boxes | import s | export s (JSON) | export MB | peak RSS MB (server + children) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| Label Studio | {r['tasks']:,} | {r['boxes']:,} | {r['import_s']:.1f} | {r['export_s']:.1f} | "
          f"{r['export_mb']:.0f} | {r.get('peak_rss_mb', float('nan')):.0f} |")


if __name__ == "__main__":
    main()
