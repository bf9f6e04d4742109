"""Index structures that keep every call cheap at 100k tasks: a keyed priority queue with lazy
invalidation (O(log n) push and take) and a lease book whose expiries come off a heap in time order."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DEFERRED", "ELIGIBLE", "INELIGIBLE", "IndexedQueue", "Lease", "LeaseBook"]

INELIGIBLE, ELIGIBLE, DEFERRED = 0, 1, 2

Key = tuple[int, ...]


class IndexedQueue:
    """Ids ordered by a key tuple (smallest first). Re-pushing an id replaces its key; ``take`` pops the
    best id the caller's ``judge`` deems eligible, leaving the ineligible ones in place, and falls back
    to the best deferred one when nothing is eligible."""

    def __init__(self) -> None:
        self._heap: list[tuple[Key, int, str]] = []
        self._live: dict[str, int] = {}  # id -> stamp of its one valid entry
        self._stamps = 0

    @property
    def generation(self) -> int:
        """Changes whenever an id is pushed: a take that found nothing eligible stays empty until then."""
        return self._stamps

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, item: str) -> bool:
        return item in self._live

    def push(self, item: str, key: Key) -> None:
        self._stamps += 1
        self._live[item] = self._stamps
        heapq.heappush(self._heap, (key, self._stamps, item))
        if len(self._heap) > 4 * len(self._live) + 64:
            self._compact()

    def discard(self, item: str) -> None:
        self._live.pop(item, None)

    def take(self, judge: Callable[[str], int], *, remove: bool = True) -> str | None:
        """The best eligible id (else the best deferred one), taken out unless ``remove`` is false."""
        heap, live = self._heap, self._live
        passed: list[tuple[Key, int, str]] = []
        deferred: tuple[Key, int, str] | None = None
        chosen: str | None = None
        while heap:
            entry = heapq.heappop(heap)
            if live.get(entry[2]) != entry[1]:
                continue  # stale: the id was re-pushed or discarded since
            verdict = judge(entry[2])
            if verdict == ELIGIBLE:
                chosen = entry[2]
                break
            if verdict == DEFERRED and deferred is None:
                deferred = entry
            else:
                passed.append(entry)
        picked: tuple[Key, int, str] | None = entry if chosen is not None else None
        if chosen is None and deferred is not None:
            chosen, picked = deferred[2], deferred
        elif deferred is not None:
            passed.append(deferred)
        if not remove and picked is not None:
            passed.append(picked)
        for entry in passed:
            heapq.heappush(heap, entry)
        if chosen is not None and remove:
            del live[chosen]
        return chosen

    def _compact(self) -> None:
        self._heap = [e for e in self._heap if self._live.get(e[2]) == e[1]]
        heapq.heapify(self._heap)


@dataclass(frozen=True)
class Lease:
    task_id: str
    member: str
    mode: str  # annotate | gold | audit | rework | review | adjudicate
    stage: str
    expires: float
    number: int


class LeaseBook:
    """Active leases by (task, member), and their expiries in time order."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], Lease] = {}
        self._heap: list[tuple[float, int, str, str]] = []
        self._count = 0

    def __len__(self) -> int:
        return len(self._by_key)

    def grant(self, task_id: str, member: str, mode: str, stage: str, expires: float) -> Lease:
        self._count += 1
        lease = Lease(task_id, member, mode, stage, expires, self._count)
        self._by_key[(task_id, member)] = lease
        heapq.heappush(self._heap, (expires, self._count, task_id, member))
        return lease

    def get(self, task_id: str, member: str) -> Lease | None:
        return self._by_key.get((task_id, member))

    def release(self, task_id: str, member: str) -> Lease:
        return self._by_key.pop((task_id, member))

    def due(self, now: float) -> list[Lease]:
        """Remove and return the leases whose expiry is at or before ``now``, oldest first."""
        out = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, number, task_id, member = heapq.heappop(heap)
            lease = self._by_key.get((task_id, member))
            if lease is not None and lease.number == number:
                del self._by_key[(task_id, member)]
                out.append(lease)
        return out

    def active(self) -> list[Lease]:
        return list(self._by_key.values())
