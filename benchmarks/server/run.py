"""Server benchmark: import N tasks x K pre-annotation boxes (COCO), export them to COCO, then
A simulated annotators looping next-task + submit on a plain project (no workflow), on SQLite and
on PostgreSQL.

    .venv/bin/python benchmarks/server/run.py --tasks 100000 --boxes 10 --annotators 50 --seconds 30 \
        --rate 25,50 --workers sqlite=1,postgres=2

The server runs as its own process (``labelgate serve``); everything goes over HTTP. The annotators
run twice, each phase ``--seconds`` long: closed loop (no think time: the saturation throughput, where
latency is mostly queueing, by Little's law about annotators / throughput) and paced (together they
offer ``--rate`` rounds per second, each on its own schedule: the latency at a stated load). Label
Studio (its own numbers, measured on this machine by the issue's author, SQLite): import 100k tasks x
5 boxes 225 s / 900 MB, export 165 s / 2.2 GB, submit p50 244 ms, 5 submits/s with eight annotators.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.server._proc import cpu_s, peak_rss_mb
from benchmarks.server.generate import generate_coco

from labelgate.client import Client

ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _env(data: Path, backend: str, schema: str) -> dict[str, str]:
    env = {**os.environ, "LABELGATE_DATA_DIR": str(data), "LABELGATE_ARGON2_TIME_COST": "1",
           "LABELGATE_ARGON2_MEMORY_KIB": "1024", "LABELGATE_MAX_UPLOAD_BYTES": str(4 << 30)}
    if backend == "postgres":
        env |= {"LABELGATE_DATABASE_URL": PG_URL, "LABELGATE_DATABASE_SCHEMA": schema}
    return env


def _setup_users(env: dict[str, str], annotators: int) -> tuple[str, list[str]]:
    code = f"""
import os
from labelgate.server import Runtime, Settings
from labelgate.server.services import auth
rt = Runtime.open(Settings.from_env())
root = auth.create_user(rt, None, "root", "root-password", True)
print(auth.create_token(rt, root, "bench")[1])
for i in range({annotators}):
    u = auth.create_user(rt, None, f"ann{{i}}", "ann-password")
    print(auth.create_token(rt, u, "bench")[1])
rt.close()
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout.split()
    return out[0], out[1:]


def _serve(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([str(ROOT / ".venv/bin/labelgate"), "serve", "--port", str(port), "--workers", str(workers)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


def _machine_busy_s() -> float:
    """CPU seconds every process on the machine has used (all cores: user, nice, system, irq, softirq)."""
    with open("/proc/stat") as fh:
        f = fh.readline().split()
    return sum(int(x) for x in f[1:4] + f[6:8]) / os.sysconf("SC_CLK_TCK")


def _pct(xs: list[float], q: int) -> float:
    return statistics.quantiles(xs, n=100)[q - 1] * 1000 if len(xs) >= 2 else float("nan")


class _Conn:
    """A minimal keep-alive HTTP/1.1 client connection on asyncio streams, for the load generator only:
    httpx's AsyncClient cost ~12 ms of CPU per request with 50 connections here, more than the server
    spent answering, on the same two cores. Responses must carry Content-Length (the server's do)."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\nAuthorization: Token {token}\r\nContent-Type: application/json\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"POST {path} HTTP/1.1\r\n{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status = int((await self.reader.readline()).split(b" ", 2)[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding":
                raise RuntimeError("chunked responses are not supported by this load generator")
        return status, await self.reader.readexactly(length) if length else b""

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _annotator(url: str, token: str, project_id: int, stop: float, interval: float,
                     out: dict[str, list[Any]]) -> None:
    """One annotator: next-task, then submit one box, until ``stop``. With ``interval`` > 0 each
    round starts on its own schedule (a paced, open-loop load; a late round starts at once)."""
    u = httpx.URL(url)
    conn = _Conn(u.host, u.port or 80, token)
    body = orjson.dumps({"regions": [{"geometry": {"type": "box", "x1": 1, "y1": 1, "x2": 20, "y2": 20}, "label": "Product"}],
                         "submit": True, "lead_time": 1.0})
    # spread the annotators' first rounds over one interval so that paced requests do not arrive in bursts
    due = time.monotonic() + random.uniform(0, interval)
    try:
        while True:
            if interval:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                due += interval
            if time.monotonic() >= stop:
                return
            t0 = time.perf_counter()
            status, data = await conn.post(f"/api/v1/projects/{project_id}/next-task")
            t1 = time.perf_counter()
            if status == 204:
                return
            if status != 200:
                raise RuntimeError(f"next-task answered {status}: {data[:300]!r}")
            task_id = orjson.loads(data)["id"]
            status, data = await conn.post(f"/api/v1/tasks/{task_id}/annotations", body)
            t2 = time.perf_counter()
            if status == 409:
                out["conflicts"].append(task_id)
                continue
            if status != 201:
                raise RuntimeError(f"submit answered {status}: {data[:300]!r}")
            out["next"].append(t1 - t0)
            out["submit"].append(t2 - t1)
            out["acked"].append(orjson.loads(data)["id"])
    finally:
        conn.close()


async def _load(url: str, tokens: list[str], project_id: int, seconds: float, rate: float) -> dict[str, Any]:
    out: dict[str, list[Any]] = {"next": [], "submit": [], "acked": [], "conflicts": []}
    interval = len(tokens) / rate if rate else 0.0
    t0 = time.perf_counter()
    stop = time.monotonic() + seconds
    await asyncio.gather(*(_annotator(url, t, project_id, stop, interval, out) for t in tokens))
    wall = time.perf_counter() - t0
    n = len(out["submit"])
    return {"submits": n, "submits_per_s": n / wall, "acked": out["acked"], "conflicts": len(out["conflicts"]),
            "next_p50": _pct(out["next"], 50), "next_p99": _pct(out["next"], 99),
            "submit_p50": _pct(out["submit"], 50), "submit_p99": _pct(out["submit"], 99)}


def _annotate(url: str, tokens: list[str], project_id: int, seconds: float, rate: float = 0.0) -> dict[str, Any]:
    """The annotators as asyncio tasks on one event loop, each with its own keep-alive connection
    (cheap next to 50 threads, which fought the server for the same cores). ``rate`` 0: closed loop, no think time
    (saturation throughput); else all annotators together offer ``rate`` rounds (next-task + submit)
    per second."""
    return asyncio.run(_load(url, tokens, project_id, seconds, rate))


def run(backend: str, tasks: int, boxes: int, annotators: int, seconds: float, port: int, workers: int = 1,
        rates: tuple[float, ...] = (100.0,)) -> dict[str, Any]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory(prefix=f"lg-bench-{backend}-") as tmp:
        data = Path(tmp)
        env = _env(data / "data", backend, schema)
        coco = generate_coco(data / "bench_coco.json", tasks, boxes)
        root_token, tokens = _setup_users(env, annotators)
        proc = _serve(env, port, workers)
        url = f"http://127.0.0.1:{port}"
        try:
            with Client(url, root_token, timeout=3600) as c:
                p = c.create_project("import", label_schema={"classes": [{"name": n} for n in ("Product", "Price tag", "Empty slot")]})
                t, cpu = time.perf_counter(), cpu_s(proc.pid)
                imp = c.import_file(p["id"], coco, "coco", "predictions", "bench", "1")
                t_import, cpu_import = time.perf_counter() - t, cpu_s(proc.pid) - cpu
                assert imp["n_tasks"] == tasks and imp["n_annotations"] == tasks, imp
                t, cpu = time.perf_counter(), cpu_s(proc.pid)
                started = c.start_export(p["id"], "coco", "all")
                c.wait_job(started["job"]["id"], timeout=3600, poll=0.1)
                t_export, cpu_export = time.perf_counter() - t, cpu_s(proc.pid) - cpu
                rec = c.get_export(started["export"]["id"])
                assert rec["manifest"]["regions"] == tasks * boxes, rec["manifest"]
                rss = peak_rss_mb(proc.pid)
                q = c.create_project("annotate", label_schema={"classes": [{"name": "Product"}]})
                for i in range(annotators):
                    c.set_member(q["id"], f"ann{i}", "annotator")
                n_work = max(2000, int(seconds * 1500))  # more than both phases can take at up to 1,000 rounds/s
                for start in range(0, n_work, 1000):
                    c.create_tasks(q["id"], [{"id": f"w{j}", "width": 640, "height": 480}
                                             for j in range(start, min(n_work, start + 1000))])
                phases = {}
                for mode, r in (("closed", 0.0), *((f"paced {x:g}/s", x) for x in rates)):
                    load = os.getloadavg()[0]
                    cpu, mine, busy, t0 = cpu_s(proc.pid), time.process_time(), _machine_busy_s(), time.perf_counter()
                    phases[mode] = _annotate(url, tokens, q["id"], seconds, r)
                    n = max(1, phases[mode]["submits"])
                    # the whole machine: the server, its database, the load generator and whatever else runs
                    phases[mode]["machine_busy"] = (_machine_busy_s() - busy) / ((time.perf_counter() - t0) * os.cpu_count())
                    phases[mode]["server_cpu_ms"] = (cpu_s(proc.pid) - cpu) * 1000 / n  # every server process
                    phases[mode]["client_cpu_ms"] = (time.process_time() - mine) * 1000 / n  # the load generator's
                    phases[mode]["load"] = load
                acked = len({a for ph in phases.values() for a in ph["acked"]})
                stored = sum(t_["n_submitted"] for t_ in c.iter_tasks(q["id"], 1000))
                lost = acked - stored  # every acknowledged submit finished its own task (overlap 1)
        finally:
            proc.terminate()
            proc.wait(30)
            if backend == "postgres":
                import sqlalchemy as sa

                eng = sa.create_engine(PG_URL)
                with eng.begin() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                eng.dispose()
    def strip(r: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if k != "acked"}

    return {"backend": backend, "tasks": tasks, "boxes": tasks * boxes, "import_s": t_import, "export_s": t_export,
            "import_cpu_s": cpu_import, "export_cpu_s": cpu_export, "workers": workers,
            "server_peak_rss_mb": rss, "lost": lost, "phases": {k: strip(v) for k, v in phases.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=20000)
    ap.add_argument("--boxes", type=int, default=10)
    ap.add_argument("--annotators", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20, help="length of each annotator phase")
    ap.add_argument("--rate", default="25",
                    help="paced phases: rounds (next-task + submit) per second offered by all annotators together, "
                         "comma-separated for several phases (e.g. 25,100)")
    ap.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--workers", default="1",
                    help="server processes (labelgate serve --workers): one number, or per backend as "
                         "sqlite=1,postgres=2")
    args = ap.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    per = dict(w.split("=", 1) for w in args.workers.split(",")) if "=" in args.workers else {}
    workers = {b: int(per.get(b, "1") if per else args.workers) for b in backends}
    rates = tuple(float(x) for x in args.rate.split(","))
    rows = []
    for i, b in enumerate(backends):
        rows.append(run(b, args.tasks, args.boxes, args.annotators, args.seconds, args.port + i, workers[b], rates))
        print(orjson.dumps(rows[-1]).decode(), flush=True)  # each backend's numbers as soon as they exist
    print(f"annotators: {args.annotators}; closed loop = no think time (saturation); paced = the stated rounds/s "
          "offered by all annotators together; server CPU = every server process; load = 1-minute load average "
          "when the phase began; machine busy = share of all cores' time used by every process during the phase")
    print("| backend | workers | tasks | boxes | import s (server CPU s) | export s (server CPU s) | server peak RSS MB | "
          "mode | load | machine busy | submits/s | next p50/p99 ms | submit p50/p99 ms | server CPU ms per round | "
          "client CPU ms per round | lost |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        for mode, m in r["phases"].items():
            print(f"| {r['backend']} | {r['workers']} | {r['tasks']:,} | {r['boxes']:,} | {r['import_s']:.1f} "
                  f"({r['import_cpu_s']:.1f}) | {r['export_s']:.1f} ({r['export_cpu_s']:.1f}) | "
                  f"{r['server_peak_rss_mb']:.0f} | {mode} | {m['load']:.1f} | {m['machine_busy']:.0%} | "
                  f"{m['submits_per_s']:.0f} | "
                  f"{m['next_p50']:.0f} / {m['next_p99']:.0f} | {m['submit_p50']:.0f} / {m['submit_p99']:.0f} | "
                  f"{m['server_cpu_ms']:.1f} | {m['client_cpu_ms']:.1f} | {r['lost']} |")


if __name__ == "__main__":
    main()
