"""Format benchmarks: Labelgate and its peers side by side, in one run, as ratios to the floor.

    python benchmarks/formats/run.py --size small [--tools labelgate,globox] [--tasks load,coco2yolo]

Tasks: plain load of a COCO file, COCO->YOLO, COCO->VOC, YOLO->COCO. Tools: Labelgate,
pycocotools (load only), globox, Datumaro, supervision, label-studio-converter (each peer in its own
venv under benchmarks/_venvs, made with pip on first use), and the floor: orjson with the garbage
collector frozen, numpy formatting, and the minimum file writes. Every task runs in a fresh
subprocess; the table gives its seconds (imports excluded), the ratio to the floor, its peak RSS,
and the objects found in its output (counted afterwards, so a tool that writes too few or too
many shows it). The table goes to benchmarks/RESULTS.md under "## Formats".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import SIZES, generate  # noqa: E402
from venvs import PEERS, ensure  # noqa: E402

ROOT = HERE.parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
TASKS = ("load", "coco2yolo", "coco2voc", "yolo2coco")
OURS = ("floor", "labelgate", "pycocotools")
TOOLS = (*OURS, *(p.name for p in PEERS))
SECTION = "## Formats"


def _template_images(dst: Path) -> dict[tuple[int, int], Path]:
    from PIL import Image

    dst.mkdir(parents=True, exist_ok=True)
    out = {}
    for w, h in ((640, 480), (800, 600), (1024, 768), (1280, 720), (640, 600), (640, 768), (640, 720), (800, 480),
                 (800, 768), (800, 720), (1024, 480), (1024, 600), (1024, 720), (1280, 480), (1280, 600), (1280, 768)):
        p = dst / f"{w}x{h}.jpg"
        if not p.exists():
            Image.new("RGB", (w, h)).save(p, quality=50)
        out[(w, h)] = p
    return out


def _link_images(images: list[dict[str, object]], templates: dict[tuple[int, int], Path], dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for im in images:
        p = dst / str(im["file_name"])
        if not p.exists():
            os.link(templates[(int(im["width"]), int(im["height"]))], p)  # type: ignore[call-overload]


def prepare(size: str, seed: int) -> Path:
    """benchmarks/_work/<size>: coco/ (annotations + images), yolo/ (Ultralytics layout made by the
    floor writer) and yolo_ls/ (the flat layout label-studio-converter reads)."""
    work = ROOT / "benchmarks" / "_work" / size
    coco = work / "coco" / "annotations" / "instances_train.json"
    ready = work / ".ready"
    if ready.exists():
        _input_yaml(work)
        return work
    n_images, n_objects = SIZES[size]
    print(f"generating {size}: {n_images} images, {n_objects} objects", flush=True)
    doc = generate(n_images, n_objects, seed)
    coco.parent.mkdir(parents=True, exist_ok=True)
    coco.write_bytes(orjson.dumps(doc))
    templates = _template_images(work / "_templates")
    _link_images(doc["images"], templates, work / "coco" / "images" / "train")  # type: ignore[arg-type]
    yolo = work / "yolo"
    shutil.rmtree(yolo, ignore_errors=True)
    res = _run_task(sys.executable, "floor", "coco2yolo", work, yolo, 3600)
    if "error" in res:
        raise SystemExit(f"could not make the YOLO input: {res['error']}")
    _link_images(doc["images"], templates, yolo / "images" / "train")  # type: ignore[arg-type]
    ls = work / "yolo_ls"
    ls.mkdir(exist_ok=True)
    for name, target in (("images", yolo / "images" / "train"), ("labels", yolo / "labels" / "train")):
        if not (ls / name).exists():
            (ls / name).symlink_to(target)
    (ls / "classes.txt").write_text("".join(f"{c['name']}\n" for c in doc["categories"]))  # type: ignore[attr-defined]
    _input_yaml(work)
    ready.write_text(f"seed {seed}\n")
    return work


def _input_yaml(work: Path) -> None:
    """The YOLO input names one split: a ``val`` pointing at the same images would make readers
    that honour every split see each image twice."""
    y = work / "yolo" / "data.yaml"
    text = y.read_text()
    if "\nval:" in text:
        y.write_text("".join(ln for ln in text.splitlines(keepends=True) if not ln.startswith("val:")))


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _run_task(python: str, tool: str, task: str, work: Path, out: Path, timeout: float,
              max_rss_mb: float = 0) -> dict[str, object]:
    """Run one task in a fresh process; kill it past ``timeout`` seconds or ``max_rss_mb``."""
    cmd = [python, str(HERE / "tasks.py"), tool, task, str(work), str(out)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    t = time.perf_counter()
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        killed = None
        while proc.poll() is None:
            try:
                stdout, stderr = proc.communicate(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if time.perf_counter() - t > timeout:
                    killed = f"timed out after {timeout:.0f} s"
                elif max_rss_mb and _rss_mb(proc.pid) > max_rss_mb:
                    killed = f"stopped: memory above {max_rss_mb / 1024:.0f} GB"
                if killed:
                    proc.kill()
                    proc.communicate()
                    return {"error": killed}
        else:
            stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t
    lines = [ln for ln in stdout.strip().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)[:300]}
    res: dict[str, object] = json.loads(lines[-1])
    res["wall"] = wall
    return res


def count_output(task: str, out: Path) -> int | None:
    """Objects found in a task's output: YOLO label lines, VOC <object> elements, COCO annotations."""
    if task == "coco2yolo":  # label lines, wherever a tool puts them (labels/, obj_train_data/, ...)
        return sum(sum(1 for ln in p.read_text().splitlines() if len(ln.split()) >= 5 and ln.split()[0].isdigit())
                   for p in out.rglob("*.txt"))
    if task == "coco2voc":
        return sum(p.read_bytes().count(b"<object>") for p in out.rglob("*.xml"))
    if task == "yolo2coco":
        total = 0
        for p in out.rglob("*.json"):
            if "_ls" in p.parts:
                continue
            doc = orjson.loads(p.read_bytes())
            if isinstance(doc, dict) and "annotations" in doc:
                total += len(doc["annotations"])
        return total
    return None


def _version(python: str, dist: str) -> str:
    proc = subprocess.run([python, "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
                          capture_output=True, text=True, check=False)
    return proc.stdout.strip() or "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--timeout", type=float, default=None, help="seconds per task (default: 600 small, 1800 otherwise)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per task, fastest kept (default: 3 small, 1 otherwise)")
    ap.add_argument("--max-rss-gb", type=float, default=4.0, help="stop a task whose memory passes this")
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    ap.add_argument("--out-root", type=Path, default=None,
                    help="where tasks write their output (default: the work folder). On a disk shared with other "
                         "jobs, creating 50,000 files costs 0.2-2.7 s of kernel time at random; a tmpfs such as "
                         "/dev/shm takes that noise out for every tool alike")
    a = ap.parse_args()
    tools = [t for t in a.tools.split(",") if t]
    tasks = [t for t in a.tasks.split(",") if t]
    timeout = a.timeout or (600 if a.size == "small" else 1800)
    repeat = a.repeat or (3 if a.size == "small" else 1)
    work = prepare(a.size, a.seed)
    pythons = dict.fromkeys(OURS, sys.executable)
    versions = {"labelgate": _version(sys.executable, "labelgate"), "pycocotools": _version(sys.executable, "pycocotools")}
    install_errors: dict[str, str] = {}
    for peer in PEERS:
        if peer.name not in tools:
            continue
        err = ensure(peer)
        if err is None:
            pythons[peer.name] = str(peer.python)
            versions[peer.name] = _version(str(peer.python), peer.requirements[0])
        else:
            install_errors[peer.name] = err
    results: dict[str, dict[str, dict[str, object]]] = {}
    for task in tasks:
        runs: dict[str, list[dict[str, object]]] = {t: [] for t in tools if t in pythons}
        for k in range(repeat):  # tools take turns, so a burst of load on the machine hits all of them
            for tool, done in runs.items():
                if done and "error" in done[-1]:
                    continue
                out = (a.out_root or work / "_out") / f"{os.getpid()}-{tool}-{task}"
                shutil.rmtree(out, ignore_errors=True)
                r = _run_task(pythons[tool], tool, task, work, out, timeout, a.max_rss_gb * 1024)
                r["at"] = time.strftime("%H:%M", time.gmtime())
                if "error" not in r and out.exists() and k == 0:
                    r["found"] = count_output(task, out)
                shutil.rmtree(out, ignore_errors=True)
                done.append(r)
                shown = f"{r['cpu']:.2f} s CPU, {r['seconds']:.2f} s wall, {r['maxrss_mb']:.0f} MB" if "seconds" in r else r["error"]
                print(f"{task:10s} {tool:24s} run {k + 1}: {shown}", flush=True)
        for tool, done in runs.items():
            ok = [r for r in done if "error" not in r]
            results.setdefault(task, {})[tool] = done[-1] if not ok else {
                "seconds": min(float(r["seconds"]) for r in ok),  # type: ignore[arg-type]
                "cpu": min(float(r["cpu"]) for r in ok),  # type: ignore[arg-type]
                "maxrss_mb": max(float(r["maxrss_mb"]) for r in ok),  # type: ignore[arg-type]
                "found": ok[0].get("found"), "runs": len(ok), "at": time.strftime("%H:%M", time.gmtime()),
                "out": "tmpfs" if a.out_root is not None and _is_tmpfs(a.out_root) else "disk"}
        if not a.no_write:  # after every task, so a run stopped by a timeout keeps what it measured
            write_section(render(a.size, _merge_saved(work / "results.json", {task: results[task]}), versions, install_errors))
    if not a.no_write:  # ad-hoc runs neither touch the saved results nor RESULTS.md
        results = _merge_saved(work / "results.json", {})
    print(render(a.size, results, versions, install_errors))


def _is_tmpfs(path: Path) -> bool:
    best, fs = "", ""
    for line in Path("/proc/mounts").read_text().splitlines():
        parts = line.split()
        if len(parts) > 2 and str(path.resolve()).startswith(parts[1]) and len(parts[1]) > len(best):
            best, fs = parts[1], parts[2]
    return fs == "tmpfs"


def _merge_saved(path: Path, new: dict[str, dict[str, dict[str, object]]]) -> dict[str, dict[str, dict[str, object]]]:
    """Results of earlier runs of this size, updated with this run's (a rerun of some tasks or
    tools keeps the rest of the table)."""
    saved: dict[str, dict[str, dict[str, object]]] = json.loads(path.read_text()) if path.exists() else {}
    for task, by_tool in new.items():
        saved.setdefault(task, {}).update(by_tool)
    ordered = {t: {tool: saved[t][tool] for tool in TOOLS if tool in saved[t]} for t in TASKS if t in saved}
    path.write_text(json.dumps(ordered, indent=1))
    return ordered


def render(size: str, results: dict[str, dict[str, dict[str, object]]], versions: dict[str, str],
           install_errors: dict[str, str]) -> str:
    n_images, n_objects = SIZES[size]
    lines = [f"### {size}: {n_images:,} images, {n_objects:,} objects (half boxes, half polygons)", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} CPUs "
             f"({platform.machine()}, Python {platform.python_version()}, machine shared with other jobs: "
             "compare ratios within this table, not seconds across runs). CPU: user + system seconds of the task's "
             "process, the least of the runs (the work done, robust to other jobs on the machine); wall: the fastest "
             "run; both exclude imports. RSS: the largest peak. Run: when (UTC) the row was measured; a task's tools "
             "take turns within one run, and a partial rerun replaces only its rows.", "",
             "Output: where the task wrote its files (tmpfs, or the shared disk).", "",
             "| task | tool | CPU s | x floor (CPU) | wall s | x floor (wall) | peak RSS MB | objects in output | run | output |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for task, by_tool in results.items():
        floor = by_tool.get("floor", {})
        for tool, r in by_tool.items():
            if r.get("error") == "not applicable":
                continue
            if "seconds" not in r:
                lines.append(f"| {task} | {tool} | failed: {str(r['error']).replace('|', '/')} | | | | | | {r.get('at', '')} | |")
                continue
            cells = []
            for key in ("cpu", "seconds"):
                v, f = float(r[key]), floor.get(key)  # type: ignore[arg-type]
                cells += [f"{v:.2f}", f"{v / float(f):.2f}" if f else ""]  # type: ignore[arg-type]
            found = r.get("found")
            lines.append(f"| {task} | {tool} | {' | '.join(cells)} | {float(r['maxrss_mb']):.0f} | "  # type: ignore[arg-type]
                         f"{'' if found is None else found} | {r.get('at', '')} | {r.get('out', 'disk')} |")
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items())]
    for name, err in install_errors.items():
        lines += ["", f"{name} could not be installed, so it has no numbers:", "", "```", err.strip(), "```"]
    return "\n".join(lines) + "\n"


def write_section(table: str) -> None:
    """Replace this size's table inside the "## Formats" section, keeping other sections."""
    text = RESULTS.read_text() if RESULTS.exists() else (
        "# Benchmark results\n\nSeconds depend on the machine and its load; the ratios to the floor and between tools "
        "measured in the same run are what count.\n")
    head = table.splitlines()[0]
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n\nMade by `python benchmarks/formats/run.py --size SIZE`.\n"
    start = text.index(SECTION)
    nxt = text.find("\n## ", start + len(SECTION))
    end = len(text) if nxt < 0 else nxt + 1
    section = text[start:end]
    if head in section:
        s = section.index(head)
        e = section.find("\n### ", s + len(head))
        section = section[:s] + table + ("" if e < 0 else section[e + 1 :])
    else:
        section = section.rstrip("\n") + "\n\n" + table
    text = text[:start] + section.rstrip("\n") + "\n" + ("\n" + text[end:] if end < len(text) else "")
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
