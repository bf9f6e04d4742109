"""The retail-shelf scenario end to end through the SDK: 500 shelf images, two simulated annotators with
controlled errors, an agreement round of 50 overlap images under guidelines v1 (noisy), then v2 (less
noise); the report splits Cohen's kappa by guideline version, v1 below 0.6 and v2 above, and the export
gate opens only then (before, only a manager's override with a reason opens it, stored in the snapshot)."""

from __future__ import annotations

import numpy as np
import pytest

from labelgate.client import Client
from labelgate.core import Box
from labelgate.core.errors import ConflictError
from labelgate.formats.native import region_from_dict, region_to_dict
from labelgate.quality.spatial import compare
from labelgate.samples.shelf import CLASSES, shelf_truth
from labelgate.server import create_app
from labelgate.server.domain import Role
from labelgate.server.services import projects
from tests.integration.conftest import TestClient, World

N_IMAGES = 500
ROUND = 50


def noisy(regions: list, rng: np.random.Generator, p_miss: float, p_confuse: float) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for r in regions:
        if rng.random() < p_miss:
            continue
        label = r.label
        if rng.random() < p_confuse:
            label = str(rng.choice([c for c in CLASSES if c != label]))
        g = r.geometry
        dx, dy = rng.normal(0, 0.2, 2)  # price tags are 4 px high: more would unmatch them
        out.append(region_to_dict(type(r)(Box(g.x1 + dx, g.y1 + dy, g.x2 + dx, g.y2 + dy), label, id=r.id)))
    return out


@pytest.fixture
def sdk(runtime, world: World):  # type: ignore[no-untyped-def]
    def make(role: str) -> Client:
        return Client("http://testserver", world[role].token, http=TestClient(create_app(runtime=runtime)))
    return make


def work_round(clients: dict[str, Client], pid: int, truth: dict, keys: dict[int, str], n: int,  # type: ignore[type-arg]
               noise: tuple[float, float], seed: int) -> dict[str, dict[str, list]]:  # type: ignore[type-arg]
    """Each annotator takes ``n`` tasks; returns what each submitted, by task key."""
    rng = np.random.default_rng(seed)
    done: dict[str, dict[str, list]] = {name: {} for name in clients}  # type: ignore[type-arg]
    for _ in range(n):
        for name, c in clients.items():
            t = c.next_task(pid)
            assert t is not None
            regions = noisy(truth[t["key"]], rng, *noise)
            c.submit(t["id"], regions)
            done[name][t["key"]] = regions
            keys[t["id"]] = t["key"]
    return done


def oracle_kappa(done: dict[str, dict[str, list]]) -> float:  # type: ignore[type-arg]
    a, b = sorted(done)
    both = sorted(set(done[a]) & set(done[b]))
    ra = {k: [region_from_dict(d) for d in done[a][k]] for k in both}
    rb = {k: [region_from_dict(d) for d in done[b][k]] for k in both}
    return compare(ra, rb).kappa


@pytest.mark.slow
def test_retail_shelf_guidelines_raise_kappa_and_open_the_gate(sdk, world: World) -> None:  # type: ignore[no-untyped-def]
    root = sdk("superuser")
    assert world["superuser"].user is not None
    p = projects.create_project(world.rt, world["superuser"].user, f"retail {world.project_id}", "",
                                {"classes": [{"name": c} for c in CLASSES]})
    pid = p.id
    for role in ("annotator", "annotator2", "manager"):
        projects.set_member(world.rt, world["superuser"].user, pid, world[role].name,
                            Role.MANAGER if role == "manager" else Role.ANNOTATOR)
    manager = sdk("manager")
    manager.set_workflow(pid, {"gate": {"min_agreement": 0.6}})
    ds = shelf_truth(N_IMAGES, seed=3)
    truth = {a.item_id: list(a.regions) for a in ds.annotations}
    root.create_tasks(pid, [{"id": it.id, "width": it.width, "height": it.height} for it in ds.items.values()])

    annotators = {"ann1": sdk("annotator"), "ann2": sdk("annotator2")}
    keys: dict[int, str] = {}
    opened = manager.publish_guideline(pid, "v1: box every product.", round_tasks=ROUND, round_k=2, round_priority=10)
    assert len(opened["round_tasks"]) == ROUND
    v1 = work_round(annotators, pid, truth, keys, ROUND, noise=(0.25, 0.3), seed=1)
    gate = manager.quality_gate(pid)
    assert gate is not None and not gate["passed"] and "agreement" in gate["reasons"][0]
    with pytest.raises(ConflictError, match="quality gate is shut"):
        manager.start_export(pid, "coco", "all")
    forced = manager.start_export(pid, "coco", "all", override_reason="pilot model needs data today")
    manager.wait_job(forced["job"]["id"], timeout=60)
    manifest = manager.get_export(forced["export"]["id"])["manifest"]
    assert manifest["quality_gate"]["overridden_by"] == world["manager"].name
    assert manifest["quality_gate"]["override_reason"] == "pilot model needs data today"
    assert manifest["quality_gate"]["passed"] is False

    opened = manager.publish_guideline(pid, "v2: price tags are boxes under the product; empty slots are gaps.",
                                       round_tasks=ROUND, round_k=2, round_priority=20)
    assert len(opened["round_tasks"]) == ROUND
    v2 = work_round(annotators, pid, truth, keys, ROUND, noise=(0.03, 0.03), seed=2)

    report = manager.agreement(pid)
    k1, k2 = report["by_version"]["1"], report["by_version"]["2"]
    assert k1["items"] == ROUND and k2["items"] == ROUND
    assert k1["kappa"] < 0.6 <= k2["kappa"]
    assert k2["ci"][0] <= k2["kappa"] <= k2["ci"][1]
    # the same number as quality.spatial computes from scratch on the two annotators' overlap answers
    assert k1["kappa"] == pytest.approx(oracle_kappa(v1), abs=1e-9)
    assert k2["kappa"] == pytest.approx(oracle_kappa(v2), abs=1e-9)
    assert len(k2["pairs"]) == 1 and {k2["pairs"][0]["a"], k2["pairs"][0]["b"]} == {world["annotator"].name,
                                                                                  world["annotator2"].name}
    assert set(report["per_class"]) <= set(CLASSES)
    assert report["confused"] and report["confused"][0]["count"] > 0
    cards = {c["member"]: c for c in manager.scorecards(pid)}
    assert cards[world["annotator"].name]["submitted"] == 2 * ROUND
    assert manager.quality_gate(pid)["passed"]
    started = manager.start_export(pid, "coco", "all")
    manager.wait_job(started["job"]["id"], timeout=60)
    gate_now = manager.get_export(started["export"]["id"])["manifest"]["quality_gate"]
    assert gate_now["passed"] and gate_now["overridden_by"] is None
    assert gate_now["metrics"]["agreement"] == pytest.approx(k2["kappa"])
