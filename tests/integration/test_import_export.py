"""Import annotation files (any registered format) and export versioned snapshots as jobs."""

from __future__ import annotations

import io
import time
import zipfile

import orjson
from fastapi.testclient import TestClient

from labelgate import formats
from labelgate.formats.native import dataset_to_dict
from labelgate.samples.shelf import shelf_dataset
from labelgate.server import Runtime
from tests.integration.conftest import World


def _native_bytes(n: int = 4, seed: int = 0) -> bytes:
    return orjson.dumps(dataset_to_dict(shelf_dataset(n, seed=seed)), option=orjson.OPT_SERIALIZE_NUMPY)


def _upload(c: TestClient, w: World, data: bytes, name: str = "shelf.json", **form: str):
    form.setdefault("format", "native")
    return c.post(f"/api/v1/projects/{w.project_id}/imports", headers=w["manager"].headers,
                  files={"file": (name, data, "application/json")}, data=form)


def _wait_job(c: TestClient, headers: dict, job_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_import_creates_tasks_and_annotations_once(app_client: TestClient, world: World) -> None:
    c = app_client
    data = _native_bytes()
    r = _upload(c, world, data)
    assert r.status_code == 201, r.text
    imp = r.json()
    assert imp["format"] == "native" and imp["n_tasks"] == 4 and imp["n_annotations"] == 16 and not imp["reused"]
    again = _upload(c, world, data, format="").json()  # format detected from the content
    assert again["reused"] and again["id"] == imp["id"]
    page = c.get(f"/api/v1/projects/{world.project_id}/tasks", headers=world["manager"].headers).json()
    assert page["total"] == 4
    task = c.get(f"/api/v1/tasks/{page['tasks'][0]['id']}", headers=world["manager"].headers).json()
    sources = sorted(a["source"] for a in task["annotations"])
    assert sources == ["gold", "human", "human", "model"]
    model = next(a for a in task["annotations"] if a["source"] == "model")
    assert model["model"] == "shelf-detector" and model["model_version"] == "0.1"
    assert task["completed"]  # two imported human annotations >= overlap 1


def test_import_as_predictions_needs_a_model_and_records_it(app_client: TestClient, world: World) -> None:
    c = app_client
    data = _native_bytes(2, seed=3)
    r = _upload(c, world, data, kind="predictions")
    assert r.status_code == 422 and "model" in r.json()["error"]["message"]
    r = _upload(c, world, data, kind="predictions", model="yolo", model_version="8.1")
    assert r.status_code == 201 and r.json()["n_annotations"] == 8
    t = c.get(f"/api/v1/projects/{world.project_id}/tasks", headers=world["manager"].headers).json()["tasks"][0]
    anns = c.get(f"/api/v1/tasks/{t['id']}", headers=world["manager"].headers).json()["annotations"]
    assert {(a["source"], a["model"], a["model_version"]) for a in anns} == {("model", "yolo", "8.1")}


def _names_only_the_sent_file(err: dict, name: str, runtime: Runtime) -> None:
    """An import error names the file as sent, never where the server keeps uploads (its directory layout)."""
    text = orjson.dumps(err).decode()
    for hidden in (str(runtime.settings.upload_dir), str(runtime.settings.data_dir.resolve()), "upload-"):
        assert hidden not in text, err
    if err["code"] == "format_error":
        assert err["detail"]["path"] == name and err["message"].startswith(name), err


def test_bad_files_are_refused_and_nothing_is_stored(app_client: TestClient, world: World, runtime) -> None:
    c = app_client
    bad_label = dataset_to_dict(shelf_dataset(2, seed=5))
    bad_label["annotations"][1]["regions"][0]["label"] = "Unicorn"
    cases = [
        (b'{"labelgate": 1, "items": [', "shelf.json", "format_error"),
        (orjson.dumps(bad_label, option=orjson.OPT_SERIALIZE_NUMPY), "shelf.json", "invalid"),
        (b"just some text", "notes.txt", "format_error"),
    ]
    for data, name, code in cases:
        r = _upload(c, world, data, name)
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == code
        _names_only_the_sent_file(err, name, runtime)
    r = _upload(c, world, orjson.dumps(bad_label, option=orjson.OPT_SERIALIZE_NUMPY))
    assert "'Unicorn' is not in the project's label schema" in r.json()["error"]["message"]
    old = runtime.settings.max_upload_bytes
    try:
        runtime.settings.max_upload_bytes = 1000
        r = _upload(c, world, b"{" + b" " * 2000 + b"}")
        assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    finally:
        runtime.settings.max_upload_bytes = old
    assert c.get(f"/api/v1/projects/{world.project_id}/tasks", headers=world["manager"].headers).json()["total"] == 0
    assert c.get(f"/api/v1/projects/{world.project_id}/imports", headers=world["manager"].headers).json() == []
    leftovers = [q for q in runtime.settings.upload_dir.rglob("*") if q.is_file()]
    assert leftovers == []


def test_export_snapshot_is_versioned_hashed_and_downloadable(app_client: TestClient, world: World) -> None:
    c, m = app_client, world["manager"].headers
    assert _upload(c, world, _native_bytes(3, seed=7)).status_code == 201
    r = c.post(f"/api/v1/projects/{world.project_id}/exports", headers=m, json={"format": "native", "filter": "all"})
    assert r.status_code == 202, r.text
    started = r.json()
    job = _wait_job(c, m, started["job"]["id"])
    assert job["status"] == "succeeded", job
    assert job["done"] == job["total"] == 3
    exp = c.get(f"/api/v1/exports/{started['export']['id']}", headers=m).json()
    assert exp["version"] == 1 and exp["status"] == "succeeded" and len(exp["content_hash"]) == 64
    files = exp["manifest"]["files"]
    assert [f["path"] for f in files] == ["dataset.json"]
    raw = c.get(f"/api/v1/exports/{exp['id']}/files/dataset.json", headers=m).content
    import hashlib

    assert hashlib.sha256(raw).hexdigest() == files[0]["sha256"]
    back = formats.get_codec("native")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "d.json"
        p.write_bytes(raw)
        ds = back.read(p)
    assert len(ds.items) == 3 and len(ds.annotations) == 12
    z = zipfile.ZipFile(io.BytesIO(c.get(f"/api/v1/exports/{exp['id']}/download", headers=m).content))
    assert sorted(z.namelist()) == ["dataset.json", "manifest.json"]
    # a second snapshot of unchanged data: new version, same content hash; "submitted" holds fewer
    again = c.post(f"/api/v1/projects/{world.project_id}/exports", headers=m, json={"format": "native"}).json()
    _wait_job(c, m, again["job"]["id"])
    second = c.get(f"/api/v1/exports/{again['export']['id']}", headers=m).json()
    assert second["version"] == 2
    sub = c.post(f"/api/v1/projects/{world.project_id}/exports", headers=m,
                 json={"format": "native", "filter": "submitted"}).json()
    _wait_job(c, m, sub["job"]["id"])
    third = c.get(f"/api/v1/exports/{sub['export']['id']}", headers=m).json()
    assert third["manifest"]["annotations"] == 6  # anna and ben on 3 images; no gold, no model
    versions = [e["version"] for e in c.get(f"/api/v1/projects/{world.project_id}/exports", headers=m).json()]
    assert versions == [1, 2, 3]


def test_unknown_export_format_and_unready_download(app_client: TestClient, world: World) -> None:
    c, m = app_client, world["manager"].headers
    r = c.post(f"/api/v1/projects/{world.project_id}/exports", headers=m, json={"format": "nope"})
    assert r.status_code == 422 and "known formats" in r.json()["error"]["message"]


def test_export_to_a_format_that_holds_less_reports_what_it_dropped(app_client: TestClient, world: World,
                                                                    tmp_path) -> None:
    c, m = app_client, world["manager"].headers
    assert _upload(c, world, _native_bytes(3, seed=9)).status_code == 201
    started = c.post(f"/api/v1/projects/{world.project_id}/exports", headers=m,
                     json={"format": "coco", "filter": "all"}).json()
    assert _wait_job(c, m, started["job"]["id"])["status"] == "succeeded"
    exp = c.get(f"/api/v1/exports/{started['export']['id']}", headers=m).json()
    dropped = {loss["field"] for loss in exp["report"]["losses"]}
    assert {"annotation.multiple", "annotation.provenance"} <= dropped
    z = zipfile.ZipFile(io.BytesIO(c.get(f"/api/v1/exports/{exp['id']}/download", headers=m).content))
    z.extractall(tmp_path)
    back = formats.read(tmp_path / exp["manifest"]["files"][0]["path"], "coco")
    assert len(back.items) == 3
    assert back.region_count == exp["manifest"]["regions"]


LS_TASKS = [{"id": 1, "data": {"image": "https://example.org/a.jpg"},
             "annotations": [{"id": 10, "completed_by": 1, "result": [{
                 "id": "r1", "type": "rectanglelabels", "from_name": "label", "to_name": "image", "original_width": 640,
                 "original_height": 480, "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0,
                                                   "rectanglelabels": ["Product"]}}]}],
             "predictions": [{"model_version": "v3", "score": 0.9, "result": [{
                 "id": "p1", "type": "rectanglelabels", "from_name": "label", "to_name": "image", "original_width": 640,
                 "original_height": 480, "value": {"x": 12, "y": 11, "width": 20, "height": 20, "rotation": 0,
                                                   "rectanglelabels": ["Product"]}, "score": 0.8}]}]}]


def test_label_studio_task_json_import(app_client: TestClient, world: World) -> None:
    c, m = app_client, world["manager"].headers
    r = _upload(c, world, orjson.dumps(LS_TASKS), "tasks.json", format="")  # detected
    assert r.status_code == 201, r.text
    assert r.json()["format"] == "label_studio" and r.json()["n_tasks"] == 1 and r.json()["n_annotations"] == 2
    t = c.get(f"/api/v1/projects/{world.project_id}/tasks", headers=m).json()["tasks"][0]
    assert t["item"]["media"] == "https://example.org/a.jpg"
    anns = c.get(f"/api/v1/tasks/{t['id']}", headers=m).json()["annotations"]
    assert sorted((a["source"], a["model_version"]) for a in anns) == [("human", None), ("model", "v3")]
    box = next(a for a in anns if a["source"] == "human")["regions"][0]["geometry"]
    assert (box["x1"], box["y1"], box["x2"], box["y2"]) == (64.0, 48.0, 192.0, 144.0)


def test_background_import_reports_progress_result_and_refusals(app_client: TestClient, world: World, runtime) -> None:
    c, m = app_client, world["manager"].headers
    url = f"/api/v1/projects/{world.project_id}/imports/background"
    r = c.post(url, headers=m, files={"file": ("s.json", _native_bytes(3, seed=4), "application/json")},
               data={"format": "native"})
    assert r.status_code == 202, r.text
    job = _wait_job(c, m, r.json()["id"])
    assert job["status"] == "succeeded" and job["done"] == job["total"] == 3
    assert job["result"]["n_tasks"] == 3 and job["result"]["format"] == "native"
    bad = c.post(url, headers=m, files={"file": ("b.json", b'{"labelgate": 1, "items": [', "application/json")},
                 data={"format": "native"})
    failed = _wait_job(c, m, bad.json()["id"])
    assert failed["status"] == "failed", failed
    assert "b.json" in failed["error"] and "line 1" in failed["error"], failed["error"]
    assert c.get(f"/api/v1/projects/{world.project_id}/tasks", headers=m).json()["total"] == 3
    assert list((runtime.settings.upload_dir / "pending").iterdir()) == []
    r = c.post(url, headers=world["annotator"].headers, files={"file": ("s.json", b"{}", "application/json")})
    assert r.status_code == 403


def test_xml_entity_expansion_is_refused_and_nothing_stored(app_client: TestClient, world: World) -> None:
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
            b'<annotations><version>1.1</version><image id="0" name="&lol3;.jpg" width="10" height="10"/></annotations>')
    r = _upload(app_client, world, bomb, "annotations.xml", format="cvat")
    assert r.status_code == 422 and "unsafe XML refused" in r.json()["error"]["message"]
    assert app_client.get(f"/api/v1/projects/{world.project_id}/tasks", headers=world["manager"].headers).json()["total"] == 0


def test_bare_stored_rows_are_the_full_rows_without_who_and_when(app_client: TestClient, world: World) -> None:
    """Snapshots that drop provenance read the annotations without it: the same rows, those fields None."""
    from labelgate.server.db.repos import tasks as tasks_repo

    assert _upload(app_client, world, _native_bytes(3, seed=5)).status_code == 201
    rt = app_client.app.state.runtime  # type: ignore[attr-defined]
    with rt.db.snapshot() as conn:
        full = tasks_repo.stored_annotations(conn, world.project_id)
        bare = tasks_repo.stored_annotations(conn, world.project_id, provenance=False)
    assert full and len(bare) == len(full)
    who_and_when = ("author_name", "model", "model_version", "lead_time", "created_at", "updated_at", "submitted_at")
    for f, b in zip(full, bare, strict=True):
        assert b._replace(**{k: getattr(f, k) for k in who_and_when}) == f
        assert all(getattr(b, k) is None for k in who_and_when)
    assert any(f.created_at is not None and f.model is not None for f in full)


def _coco_bytes(segmentation: object) -> bytes:
    good = {"id": 7, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4, "iscrowd": 0,
            "segmentation": [[0, 0, 2, 0, 2, 2]]}
    return orjson.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}, {"id": 2, "file_name": "b.jpg", "width": 4, "height": 4}],
        "categories": [{"id": 1, "name": "Product"}],
        "annotations": [good, {**good, "id": 42, "image_id": 2, "segmentation": segmentation}]})


def test_coco_with_a_bad_segmentation_is_refused_naming_it_and_nothing_is_stored(
        app_client: TestClient, world: World, runtime: Runtime) -> None:
    c, m = app_client, world["manager"].headers
    cases = [([[0, 0, 1, 0, 1]], "segmentation[0]"), ([[0, 0, 2, 0, 2, 2], ["x", 0, 1, 0, 1, 1]], "segmentation[1]"),
             ({"size": [4, 4], "counts": [0, 15]}, "segmentation.counts"), ({"size": [4, 4], "counts": "0?"}, "segmentation.counts"),
             ({"size": [2, 2], "counts": [0, 4]}, "segmentation.size"), ({"counts": [0, 16]}, "segmentation")]
    for seg, field in cases:
        r = _upload(c, world, _coco_bytes(seg), "instances_bad.json", format="coco")
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "format_error", err
        assert "instances_bad.json" in err["message"] and "id 42" in err["message"] and field in err["message"], err
        _names_only_the_sent_file(err, "instances_bad.json", runtime)
    bad = c.post(f"/api/v1/projects/{world.project_id}/imports/background", headers=m, data={"format": "coco"},
                 files={"file": ("bg.json", _coco_bytes([[0, 0, 1, 1]]), "application/json")})
    failed = _wait_job(c, m, bad.json()["id"])
    assert failed["status"] == "failed" and "id 42" in failed["error"] and "segmentation[0]" in failed["error"], failed
    assert failed["error"].startswith("bg.json") and str(runtime.settings.upload_dir) not in failed["error"], failed
    assert c.get(f"/api/v1/projects/{world.project_id}/tasks", headers=m).json()["total"] == 0
    assert c.get(f"/api/v1/projects/{world.project_id}/imports", headers=m).json() == []
    assert [q for q in runtime.settings.upload_dir.rglob("*") if q.is_file()] == []
    assert _upload(c, world, _coco_bytes([[0, 0, 2, 0, 2, 2]]), "instances_ok.json", format="coco").status_code == 201


def test_coco_with_a_coordinate_too_large_for_a_float_is_refused_naming_it_and_nothing_is_stored(
        app_client: TestClient, world: World, runtime: Runtime) -> None:
    """A number literal that overflows a float (infinity to any JSON parser) is refused at read on the typed fast
    path too, naming the annotation, whether it has an exponent or not; a long literal of a finite float is read."""
    c, m = app_client, world["manager"].headers
    big = b"1" + b"0" * 400
    cases = [b"[[0, 0, " + big + b", 0, 2, 2]]", b"[[0, 0, -" + big + b".5, 0, 2, 2]]",
             b'{"size": [4, 4], "counts": [0, ' + big + b"]}", b'{"size": [4, 4], "counts": [0, 16], "extra": ' + big + b"}"]
    for seg in cases:
        r = _upload(c, world, _coco_bytes("@SEG@").replace(b'"@SEG@"', seg), "instances_bad.json", format="coco")
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "format_error", err
        assert "id 42" in err["message"] and "segmentation" in err["message"] and "infinity" in err["message"], err
        _names_only_the_sent_file(err, "instances_bad.json", runtime)
    assert c.get(f"/api/v1/projects/{world.project_id}/tasks", headers=m).json()["total"] == 0
    assert c.get(f"/api/v1/projects/{world.project_id}/imports", headers=m).json() == []
    assert [q for q in runtime.settings.upload_dir.rglob("*") if q.is_file()] == []
    finite = _coco_bytes("@SEG@").replace(b'"@SEG@"', b"[[0, 0, 2." + b"0" * 400 + b", 0, 2, 2]]")
    r = _upload(c, world, finite, "instances_ok.json", format="coco")
    assert r.status_code == 201 and r.json()["n_annotations"] == 2, r.text
