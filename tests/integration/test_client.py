"""The SDK against the real app: every call maps to the API, errors come back typed."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from labelgate import formats
from labelgate.client import ApiError, Client
from labelgate.core.errors import ConflictError, InvariantError, NotFoundError, PermissionDenied
from labelgate.formats.native import dataset_to_dict
from labelgate.samples.shelf import shelf_dataset
from labelgate.server import create_app
from tests.integration.conftest import TestClient, World

BOX = {"geometry": {"type": "box", "x1": 1, "y1": 2, "x2": 30, "y2": 40}, "label": "Product"}


@pytest.fixture
def sdk(runtime, world: World):  # type: ignore[no-untyped-def]
    def make(role: str) -> Client:
        return Client("http://testserver", world[role].token, http=TestClient(create_app(runtime=runtime)))
    return make


def test_sdk_round_trip(sdk, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root, manager, ann = sdk("superuser"), sdk("manager"), sdk("annotator")
    p = root.create_project(f"sdk {world.project_id}", label_schema={"classes": [{"name": "Product"}]})
    root.set_member(p["id"], world["manager"].name, "manager")
    root.set_member(p["id"], world["annotator"].name, "annotator")
    assert {m["role"] for m in manager.members(p["id"])} == {"admin", "manager", "annotator"}
    manager.add_guidelines(p["id"], "Box products.")
    assert ann.guidelines(p["id"])["version"] == 1
    made = manager.create_tasks(p["id"], [{"id": k, "width": 50, "height": 50} for k in ("x2", "x0", "x1")])
    assert [t["key"] for t in made] == ["x2", "x0", "x1"]  # in the order sent, each with its item
    assert [t["item"]["id"] for t in made] == ["x2", "x0", "x1"] and len({t["id"] for t in made}) == 3
    assert len(list(manager.iter_tasks(p["id"], page=2))) == 3
    t = ann.next_task(p["id"])
    assert t is not None
    a = ann.create_annotation(t["id"], [BOX])
    a = ann.update_annotation(a["id"], a["version"], regions=[BOX, BOX])
    with pytest.raises(ConflictError) as e:
        ann.update_annotation(a["id"], 1, regions=[])
    assert isinstance(e.value, ApiError) and e.value.status == 409
    ann.update_annotation(a["id"], a["version"], submit=True, lead_time=3.0)
    assert [ev["kind"] for ev in ann.task_events(t["id"])][-1] == "task.completed"
    with pytest.raises(InvariantError, match="not in the project's label schema"):
        ann.create_annotation(ann.next_task(p["id"])["id"], [{**BOX, "label": "Dog"}])
    with pytest.raises(PermissionDenied):
        ann.start_export(p["id"])
    with pytest.raises(NotFoundError):
        sdk("outsider").project(p["id"])
    # import a file, then export and download the snapshot
    path = tmp_path / "shelf.json"
    ds = shelf_dataset(2, seed=2)
    path.write_bytes(orjson.dumps(dataset_to_dict(ds), option=orjson.OPT_SERIALIZE_NUMPY))
    with pytest.raises(InvariantError, match="Price tag"):
        manager.import_file(p["id"], path, format="native")  # the project schema lacks the file's classes
    manager.update_project(p["id"], label_schema={"classes": [{"name": n} for n in ("Product", "Price tag", "Empty slot")]})
    imp = manager.import_file(p["id"], path, format="native", background=True)
    assert imp["n_tasks"] == 2
    assert manager.import_file(p["id"], path, format="native")["reused"]
    record = manager.export(p["id"], tmp_path / "out", "native", "submitted")
    back = formats.read(tmp_path / "out" / "dataset.json", "native")
    assert record["manifest"]["items"] == len(back.items) == 5
    assert len(back.annotations) == 1 + 4  # the SDK annotator's submit, anna and ben on two images
    assert manager.job(record["job_id"])["status"] == "succeeded"
    me = ann.me()
    assert root.set_user_active(me["id"], False)["is_active"] is False
    with pytest.raises(PermissionDenied):
        ann.me()
    root.set_user_active(me["id"], True)
    with pytest.raises(PermissionDenied, match="current password is wrong"):
        ann.change_password("not-it", "whatever-long")


def test_sdk_media_and_webhooks(sdk, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.test_media import png

    manager = sdk("manager")
    img = tmp_path / "shelf_9.png"
    img.write_bytes(png(12, 8))
    assert manager.upload_media(world.project_id, img) == {"files": 1, "new_tasks": 1, "skipped": []}
    (task,) = manager.tasks(world.project_id)["tasks"]
    assert sdk("annotator").task_media(task["id"]) == img.read_bytes()
    with pytest.raises(NotFoundError):
        sdk("outsider").task_media(task["id"])
    hook = manager.create_webhook(world.project_id, "http://127.0.0.1:9/h", ["export.ready"])
    assert len(hook["secret"]) >= 16
    assert [h["id"] for h in manager.webhooks(world.project_id)] == [hook["id"]]
    assert manager.webhook_deliveries(hook["id"]) == []
    manager.delete_webhook(hook["id"])
    assert manager.webhooks(world.project_id) == []
    with pytest.raises(InvariantError, match="no media_dir or media_s3"):
        manager.scan_media(world.project_id)
