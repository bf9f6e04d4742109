"""The index structures under the engine."""

from __future__ import annotations

from labelgate.workflow.queue import DEFERRED, ELIGIBLE, INELIGIBLE, IndexedQueue, LeaseBook


def test_indexed_queue_orders_rekeys_skips_defers_and_peeks():
    q = IndexedQueue()
    for i, key in enumerate([(3,), (1,), (2,)]):
        q.push(f"t{i}", key)
    q.push("t0", (0,))  # re-keyed: the old entry goes stale
    assert q.take(lambda t: ELIGIBLE, remove=False) == "t0" and len(q) == 3
    judge = {"t0": INELIGIBLE, "t1": DEFERRED, "t2": ELIGIBLE}
    assert q.take(judge.__getitem__) == "t2"
    assert q.take(judge.__getitem__) == "t1"  # only the deferred one is left for this judge
    assert "t0" in q and len(q) == 1
    q.discard("t0")
    assert q.take(lambda t: ELIGIBLE) is None
    generation = q.generation
    q.push("t9", (5,))
    assert q.generation != generation


def test_lease_book_expires_in_time_order_and_ignores_released_leases():
    book = LeaseBook()
    book.grant("a", "m", "annotate", "annotate", 10.0)
    book.grant("b", "m", "review", "check", 5.0)
    book.grant("c", "n", "annotate", "annotate", 7.0)
    book.release("c", "n")
    assert [lz.task_id for lz in book.due(9.0)] == ["b"]
    assert [lz.task_id for lz in book.due(10.0)] == ["a"]
    assert len(book) == 0
