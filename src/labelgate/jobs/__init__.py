"""Background work behind one interface: an in-process thread pool by default, Redis (rq) with
separate worker processes at scale.

A job is a target ``"module:function"`` plus JSON-able keyword arguments, so the same job can later
run on a Redis worker. The target is called as ``function(ctx, **kwargs)`` with a :class:`JobContext`
that carries the job id and the resources its owner registered (for the server: its database).
Nothing here knows about the server; the owner records status and progress itself.
"""

from labelgate.jobs.base import JobContext, JobQueue, resolve_target
from labelgate.jobs.inprocess import InProcessQueue
from labelgate.jobs.redis_queue import RedisQueue, set_resources

__all__ = ["InProcessQueue", "JobContext", "JobQueue", "RedisQueue", "resolve_target", "set_resources"]
