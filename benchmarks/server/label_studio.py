"""Label Studio side by side with the server benchmark: the same N images x K pre-annotated boxes
(model predictions), imported through Label Studio's API and exported to its JSON, then K simulated
annotators looping next-task + submit, on SQLite.

    .venv/bin/python benchmarks/server/label_studio.py --tasks 10000 --boxes 10 --annotators 8,50 --seconds 30

The first run installs Label Studio 1.23.2 from PyPI into its own venv, ``benchmarks/_venvs/label-studio``
(git-ignored); a failed install is written next to it and reported, not retried.
Label Studio runs as its own process on loopback (``label-studio start``, its default Django server,
one process answering each request on a thread) with a fresh data directory; import is one
``POST /api/projects/{id}/import`` of the whole task list (Label Studio's JSON with ``predictions``),
timed until the response. Two exports, each timed until the last byte:

- ``export``: ``GET /api/projects/{id}/export?exportType=JSON&download_all_tasks=true``, the quick
  export; it writes each task's predictions as their ids only (no boxes), its default.
- ``snapshot``: ``POST /api/projects/{id}/exports/`` with ``serialization_options.predictions.only_id``
  false (the boxes in full; it runs in the request when there is no Redis, as here), then
  ``GET /api/projects/{id}/exports/{export}/download?exportType=JSON``. Up to 20,000 tasks the file
  is parsed back and its boxes counted.

Annotators work on the imported project (its N tasks with their predictions, as in the issue's "submit
with 100k tasks in the project"), closed loop (no think time): ``GET /api/projects/{id}/next`` then
``POST /api/tasks/{task}/annotations/`` with one rectangle, for ``--seconds``. Each annotator is its own
Label Studio user with its own token: the REST API creates users (``POST /api/users/``) but gives no
one else their token, so each signs up through Label Studio's own sign-up page and reads its token from
``GET /api/current-user/token`` in that session. The load generator is one thread per annotator with
its own keep-alive ``httpx.Client`` (Label Studio answers a few dozen requests a second at most here, so
the client's own CPU, reported as ``client_cpu_s``, stays small next to the server's).

Every phase prints one JSON line as soon as it is measured (a run stopped later keeps its numbers):
wall seconds, the server's CPU seconds (user + system of its process tree: the two cores are shared),
its peak RSS so far, and the load average.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.formats.venvs import Peer, ensure  # noqa: E402
from benchmarks.server._proc import cpu_s, peak_rss_mb  # noqa: E402

# its own venv under benchmarks/_venvs (Django and its pins never meet ours), made on first use
LABEL_STUDIO = Peer("label-studio", ("label-studio==1.23.2",))
LS = LABEL_STUDIO.root / "bin/label-studio"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
CLASSES = ["Product", "Price tag", "Empty slot"]
CONFIG = ("<View><Image name='image' value='$image'/><RectangleLabels name='label' toName='image'>"
          + "".join(f"<Label value='{c}'/>" for c in CLASSES) + "</RectangleLabels></View>")
PHASES = ("import", "export", "snapshot", "annotate")
ANNOTATION = orjson.dumps({"result": [{"from_name": "label", "to_name": "image", "type": "rectanglelabels",
                                        "original_width": 640, "original_height": 640,
                                        "value": {"x": 1.0, "y": 1.0, "width": 3.0, "height": 3.0, "rotation": 0,
                                                  "rectanglelabels": ["Product"]}}],
                           "lead_time": 1.0})
Emit = Callable[[dict[str, Any]], None]



def _cpu(pid: int | None) -> float | None:
    return None if pid is None else cpu_s(pid)


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


def _pct(xs: list[float], q: int) -> float | None:
    return statistics.quantiles(xs, n=100)[q - 1] * 1000 if len(xs) >= 2 else None


def _signup(url: str, email: str, password: str) -> str:
    """A new Label Studio user through its sign-up page; returns the user's API token."""
    with httpx.Client(base_url=url, timeout=120) as c:
        c.get("/user/signup/").raise_for_status()
        csrf = c.cookies.get("csrftoken")
        if not csrf:
            raise RuntimeError("Label Studio's sign-up page set no csrftoken cookie")
        r = c.post("/user/signup/", data={"email": email, "password": password, "csrfmiddlewaretoken": csrf},
                   headers={"Referer": f"{url}/user/signup/"})
        if r.status_code != 302:
            errors = re.findall(r"class=\"[^\"]*error[^\"]*\"[^>]*>([^<]+)<", r.text)
            raise RuntimeError(f"sign-up of {email} answered {r.status_code} (expected a redirect): {errors[:3]}")
        t = c.get("/api/current-user/token")
        t.raise_for_status()
        return str(t.json()["token"])


def _annotator(url: str, who: int, token: str, project_id: int, stop: float, timeout: float,
               out: dict[str, Any], lock: threading.Lock) -> None:
    """One annotator: next task, then submit one rectangle, until ``stop`` (closed loop)."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=timeout) as c:
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            r = c.get(f"/api/projects/{project_id}/next/")
            t1 = time.perf_counter()
            if r.status_code == 404:  # no task left for this user
                with lock:
                    out["exhausted"] += 1
                return
            if r.status_code != 200:
                with lock:
                    out["errors"][f"next {r.status_code}"] += 1
                    out["error_sample"].setdefault(f"next {r.status_code}", r.text[:300])
                continue
            task_id = r.json()["id"]
            s = c.post(f"/api/tasks/{task_id}/annotations/", content=ANNOTATION)
            t2 = time.perf_counter()
            with lock:
                if s.status_code != 201:
                    out["errors"][f"submit {s.status_code}"] += 1
                    out["error_sample"].setdefault(f"submit {s.status_code}", s.text[:300])
                    continue
                out["next"].append(t1 - t0)
                out["submit"].append(t2 - t1)
                out["tasks"][task_id].append(who)


def annotate(url: str, tokens: list[str], project_id: int, seconds: float, timeout: float) -> dict[str, Any]:
    """All annotators at once, one thread each, for ``seconds``; throughput over the whole wall time
    (requests in flight at the stop are waited for)."""
    out: dict[str, Any] = {"next": [], "submit": [], "tasks": collections.defaultdict(list), "errors": collections.Counter(),
                           "error_sample": {}, "exhausted": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    cpu0 = os.times()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=_annotator, args=(url, i, tok, project_id, stop, timeout, out, lock), daemon=True)
               for i, tok in enumerate(tokens)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    n = len(out["submit"])
    return {"annotators": len(tokens), "seconds": seconds, "wall_s": wall, "submits": n, "submits_per_s": n / wall,
            "next_p50_ms": _pct(out["next"], 50), "next_p99_ms": _pct(out["next"], 99),
            "submit_p50_ms": _pct(out["submit"], 50), "submit_p99_ms": _pct(out["submit"], 99),
            "round_p50_ms": _pct([a + b for a, b in zip(out["next"], out["submit"], strict=True)], 50),
            # Label Studio lets two annotators take the same task (maximum_annotations 1 notwithstanding)
            "tasks_submitted_twice_or_more": sum(1 for v in out["tasks"].values() if len(v) > 1),
            "tasks_submitted_twice_by_one_annotator": sum(1 for v in out["tasks"].values() if len(v) > len(set(v))),
            "errors": dict(out["errors"]), "error_sample": out["error_sample"], "annotators_out_of_tasks": out["exhausted"],
            "client_cpu_s": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)}


def _snapshot(c: httpx.Client, project_id: int, check: bool) -> dict[str, Any]:
    """Label Studio's export snapshot with the predictions in full, made and downloaded as JSON."""
    t = time.perf_counter()
    r = c.post(f"/api/projects/{project_id}/exports/", json={"serialization_options": {"predictions": {"only_id": False}}})
    r.raise_for_status()
    snap = r.json()
    if snap.get("status") != "completed":
        raise RuntimeError(f"Label Studio's export snapshot ended {snap.get('status')!r}: {str(snap)[:300]}")
    made = time.perf_counter() - t
    size, chunks = 0, []
    with c.stream("GET", f"/api/projects/{project_id}/exports/{snap['id']}/download", params={"exportType": "JSON"}) as resp:
        resp.raise_for_status()
        for chunk in resp.iter_bytes():
            size += len(chunk)
            if check:
                chunks.append(chunk)
    row: dict[str, Any] = {"snapshot_made_s": made, "snapshot_mb": size / 1e6}
    if check:
        tasks = orjson.loads(b"".join(chunks))
        row["boxes_in_file"] = sum(len(p["result"]) for task in tasks for p in task["predictions"])
    return row


def _emit_line(row: dict[str, Any]) -> None:
    print(orjson.dumps(row).decode(), flush=True)


def measure(url: str, n_images: int, boxes: int, annotators: list[int], seconds: float, timeout: float,
            phases: tuple[str, ...], server_pid: int | None = None, emit: Emit = _emit_line) -> dict[str, Any]:
    """The phases on a running Label Studio whose user has the token ``TOKEN``; each phase's numbers go
    to ``emit`` as soon as they are measured. A phase that runs past ``timeout`` seconds is reported as
    timed out and the later phases are skipped."""
    results: dict[str, Any] = {"tasks": n_images, "boxes": n_images * boxes}

    def report(phase: str, row: dict[str, Any], cpu0: float | None) -> None:
        cpu = _cpu(server_pid)
        row = {"phase": phase, "tasks": n_images, "boxes": n_images * boxes, **row,
               "server_cpu_s": None if cpu is None or cpu0 is None else cpu - cpu0,
               "server_peak_rss_mb": peak_rss_mb(server_pid) if server_pid else None,
               "loadavg": [round(x, 2) for x in os.getloadavg()]}
        results[phase if phase != "annotate" else f"annotate_{row['annotators']}"] = row
        emit(row)

    tokens: list[str] = []
    if "annotate" in phases and annotators:
        # users first (not timed): sign-up hashes a password each, seconds of CPU for 50
        run_id = os.urandom(4).hex()
        tokens = [_signup(url, f"ann{i}-{run_id}@example.com", "bench-password-2024") for i in range(max(annotators))]
    body = tasks_json(n_images, boxes)
    with httpx.Client(base_url=url, headers={"Authorization": f"Token {TOKEN}"}, timeout=timeout) as c:
        p = c.post("/api/projects", json={"title": "bench", "label_config": CONFIG})
        p.raise_for_status()
        pid = p.json()["id"]
        cpu0, t = _cpu(server_pid), time.perf_counter()
        try:
            r = c.post(f"/api/projects/{pid}/import", content=body, headers={"Content-Type": "application/json"})
        except httpx.TimeoutException:
            report("import", {"timed_out": True, "timeout_s": timeout}, cpu0)
            return results
        r.raise_for_status()
        imported = r.json()
        report("import", {"import_s": time.perf_counter() - t, "body_mb": len(body) / 1e6,
                          "task_count": imported.get("task_count"), "prediction_count": imported.get("prediction_count")},
               cpu0)
        del body
        for phase in [ph for ph in phases if ph != "import"]:  # in the order given
            if phase == "export":
                cpu0, t = _cpu(server_pid), time.perf_counter()
                size = 0
                try:
                    with c.stream("GET", f"/api/projects/{pid}/export",
                                  params={"exportType": "JSON", "download_all_tasks": "true"}) as resp:
                        resp.raise_for_status()
                        for chunk in resp.iter_bytes():
                            size += len(chunk)
                except httpx.TimeoutException:
                    report("export", {"timed_out": True, "timeout_s": timeout, "bytes_so_far": size}, cpu0)
                    return results
                report("export", {"export_s": time.perf_counter() - t, "export_mb": size / 1e6}, cpu0)
            elif phase == "snapshot":
                cpu0, t = _cpu(server_pid), time.perf_counter()
                try:
                    row = _snapshot(c, pid, n_images <= 20000)
                except httpx.TimeoutException:
                    report("snapshot", {"timed_out": True, "timeout_s": timeout}, cpu0)
                    return results
                if row.get("boxes_in_file") not in (None, n_images * boxes):
                    raise RuntimeError(f"the snapshot holds {row['boxes_in_file']} boxes, expected {n_images * boxes}")
                report("snapshot", {"snapshot_s": time.perf_counter() - t, **row}, cpu0)
            else:
                for k in annotators:
                    cpu0 = _cpu(server_pid)
                    report("annotate", annotate(url, tokens[:k], pid, seconds, timeout), cpu0)
    return results


def run(n_images: int, boxes: int, annotators: list[int], seconds: float, timeout: float, phases: tuple[str, ...],
        port: int) -> dict[str, Any]:
    """Start a fresh Label Studio (its own data directory, SQLite), measure, stop it."""
    err = ensure(LABEL_STUDIO)
    if err is not None:
        sys.exit(f"Label Studio could not be installed into {LABEL_STUDIO.root}: {err}")
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
            _emit_line({"phase": "start", "start_s": time.perf_counter() - t, "loadavg": list(os.getloadavg())})
            # a small round first, not reported: checks the calls and warms the server up
            measure(url, 100, boxes, [min(2, max(annotators, default=0))] if annotators else [], 2, timeout, phases,
                    emit=lambda row: None)
            out = measure(url, n_images, boxes, annotators, seconds, timeout, phases, server_pid=proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--boxes", type=int, default=10)
    ap.add_argument("--annotators", default="8",
                    help="concurrent annotators; a comma list (8,50) runs one phase per count, in order, on the same project")
    ap.add_argument("--seconds", type=float, default=30, help="length of each annotator phase")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds one request (the import, the export) may take")
    ap.add_argument("--phases", default=",".join(PHASES),
                    help=f"comma list out of {', '.join(PHASES)}, run in the order given after the import (which always runs first)")
    ap.add_argument("--port", type=int, default=18090)
    ap.add_argument("--url", help="a running Label Studio whose user has this file's TOKEN (else one is started)")
    args = ap.parse_args()
    try:
        annotators = [int(a) for a in args.annotators.split(",") if a.strip()]
    except ValueError:
        ap.error(f"--annotators: expected a comma list of whole numbers, got {args.annotators!r}")
    if any(a < 1 for a in annotators):
        ap.error(f"--annotators: each count must be at least 1, got {args.annotators!r}")
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    if unknown := [p for p in phases if p not in PHASES]:
        ap.error(f"--phases: unknown {unknown}; choose from {', '.join(PHASES)}")
    if args.url:
        r = measure(args.url, args.tasks, args.boxes, annotators, args.seconds, args.timeout, phases)
    else:
        r = run(args.tasks, args.boxes, annotators, args.seconds, args.timeout, phases, args.port)

    def num(row: dict[str, Any] | None, key: str, fmt: str = ".1f") -> str:
        v = (row or {}).get(key)
        return "timed out" if row and row.get("timed_out") else "-" if v is None else format(v, fmt)

    imp, exp, snap = r.get("import"), r.get("export"), r.get("snapshot")
    print("| tool | tasks | boxes | import s (server CPU s) | export s, ids only (server CPU s) | export MB | "
          "snapshot s, boxes in full (server CPU s) | snapshot MB | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    last = snap or exp or imp
    print(f"| Label Studio | {r['tasks']:,} | {r['boxes']:,} | {num(imp, 'import_s')} ({num(imp, 'server_cpu_s')}) | "
          f"{num(exp, 'export_s')} ({num(exp, 'server_cpu_s')}) | {num(exp, 'export_mb', '.0f')} | "
          f"{num(snap, 'snapshot_s')} ({num(snap, 'server_cpu_s')}) | {num(snap, 'snapshot_mb', '.0f')} | "
          f"{num(last, 'server_peak_rss_mb', '.0f')} |")
    rows = [v for k, v in r.items() if k.startswith("annotate_")]
    if rows:
        print("| annotators | submits/s | next p50/p99 ms | submit p50/p99 ms | server CPU s | errors |")
        print("|---:|---:|---:|---:|---:|---|")
        for a in rows:
            print(f"| {a['annotators']} | {a['submits_per_s']:.1f} | {num(a, 'next_p50_ms', '.0f')} / {num(a, 'next_p99_ms', '.0f')} | "
                  f"{num(a, 'submit_p50_ms', '.0f')} / {num(a, 'submit_p99_ms', '.0f')} | {num(a, 'server_cpu_s')} | "
                  f"{a['errors'] or 'none'} |")


if __name__ == "__main__":
    main()
