"""Text labelling in a real browser: select text to make two NER spans, classify the document,
submit; the stored annotation holds the spans' exact character offsets."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import shot
from tests.e2e.live import Live, login, member

pytestmark = pytest.mark.browser

TEXT = "Angela Merkel met Emmanuel Macron in Paris on Tuesday.\nThe talks were about energy prices."


def select_text(page: Any, start: int, end: int) -> None:
    """Select characters [start, end) of the document the way a mouse drag does, then release."""
    page.evaluate("""([a, b]) => {
        const doc = document.getElementById('text-doc');
        const at = (off) => { for (const el of doc.children) { const s = Number(el.dataset.start);
            if (off >= s && off <= s + el.textContent.length) return [el.firstChild, off - s]; } };
        const r = document.createRange(); const [n1, o1] = at(a); const [n2, o2] = at(b);
        r.setStart(n1, o1); r.setEnd(n2, o2);
        const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
        doc.dispatchEvent(new MouseEvent('mouseup', { bubbles: true })); }""", [start, end])


def test_two_ner_spans_store_character_offsets(live: Live, page: Any, tag: str) -> None:
    from labelgate.server.services import imports, projects

    admin = live.user(f"admin_{tag}", superuser=True)
    ann = live.user(f"ann_{tag}")
    p = projects.create_project(live.rt, admin, f"news {tag}", "named entities",
                                {"classes": [{"name": "PER"}, {"name": "LOC"}, {"name": "politics"}]})
    imports.create_tasks(live.rt, admin, p.id, [{"id": "doc1", "kind": "text", "text": TEXT}])
    member(live, admin, p.id, ann, "annotator")

    login(page, live.url, ann.username)
    page.goto(f"{live.url}/ui/#/projects/{p.id}/label")
    page.wait_for_selector("#text-doc [data-start]")
    task_id = page.evaluate("window.__lg.task.id")

    merkel = (TEXT.index("Angela"), TEXT.index(" met"))
    paris = (TEXT.index("Paris"), TEXT.index(" on Tuesday"))
    page.keyboard.press("1")
    select_text(page, merkel[0], merkel[1] + 1)  # the trailing space is trimmed
    page.keyboard.press("2")
    select_text(page, *paris)
    page.keyboard.press("3")
    page.keyboard.press("c")  # document class "politics"
    page.wait_for_selector("#text-doc .span[data-labels='LOC']")
    shot(page, "text")
    page.click("#submit")
    page.wait_for_selector("text=No task left for you")

    with live.client(admin) as c:
        stored = [a for a in c.task(task_id)["annotations"] if a["author_name"] == ann.username]
    assert stored[0]["status"] == "submitted"
    got = sorted((r["label"], r["geometry"].get("start", -1), r["geometry"].get("end", -1)) for r in stored[0]["regions"])
    assert got == [("LOC", *paris), ("PER", *merkel), ("politics", -1, -1)]
    assert TEXT[merkel[0]:merkel[1]] == "Angela Merkel" and TEXT[paris[0]:paris[1]] == "Paris"
