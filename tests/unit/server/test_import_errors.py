"""Import errors name the uploaded file as its sender called it, never the server's own paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from labelgate.server.services.imports import _as_sent


def test_the_upload_path_as_given_and_resolved_becomes_the_sent_name(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    upload = Path("data/uploads/upload-1/f.json")  # relative, as with the default data_dir
    absolute = str(tmp_path / upload)
    text = f"{absolute}: bad; also {upload}, and {upload.parent}{os.sep}labels{os.sep}a.txt line 3"
    assert _as_sent(text, upload, "shelf.json") == "shelf.json: bad; also shelf.json, and labels/a.txt line 3".replace("/", os.sep)
    assert str(tmp_path) not in _as_sent(absolute + ".bak", upload, "shelf.json")  # a neighbour keeps no folder


def test_only_whole_names_are_replaced(tmp_path: Path) -> None:
    upload = tmp_path / "upload-1" / "ds"
    other = tmp_path / "upload-12" / "ds2"
    # a file beside the upload is named within its folder; another upload's folder is left alone
    assert _as_sent(f"{upload}2/x and {other}/x", upload, r"my\ds.zip") == f"ds2/x and {other}/x"
    assert _as_sent(f"'{upload}': no images", upload, r"my\ds.zip") == r"'my\ds.zip': no images"
