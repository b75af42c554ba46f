"""Where runs execute, behind the ``concurrent.futures.Executor`` interface.

:class:`SerialExecutor` runs each task in this process when it is submitted (for debugging);
:class:`RayExecutor` runs tasks on Ray, locally or on a cluster, and hands back Ray's own
``ObjectRef.future()``. The runner sees only ``submit`` and ``Future`` objects, so the model
and the runner know nothing of Ray; Mesa's planned batch runner uses the same interface.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any


class SerialExecutor(Executor):
    """Run each task immediately, in this process."""

    workers = 1

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future

    def cancel_pending(self) -> None:
        """Nothing is ever pending: tasks run when submitted."""


def _call(fn: Callable, *args: Any) -> Any:
    return fn(*args)


class RayExecutor(Executor):
    """Run tasks as Ray tasks, retried by Ray if their worker process dies.

    With no ``address`` a local Ray is started with ``num_cpus`` CPUs (all by default); with
    ``address`` ("auto", "ray://host:10001", ...) an existing cluster is joined. If this process
    is already connected to Ray (a test session, a notebook), that connection is used.
    ``workers`` is how many tasks the runner keeps in flight: ``num_cpus`` if given, else the
    cluster's CPUs.
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 max_retries: int = 3):
        import ray

        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            ray.init(
                address=address,
                num_cpus=num_cpus if address is None else None,
                include_dashboard=False,
                logging_level="ERROR",
                log_to_driver=False,
            )
        cluster_cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, min(num_cpus or cluster_cpus, cluster_cpus))
        self._remote = ray.remote(num_cpus=1, max_retries=max_retries)(_call)
        self._pending: dict[Future, Any] = {}

    def submit(self, fn: Callable, /, *args: Any) -> Future:
        ref = self._remote.remote(fn, *args)
        future = ref.future()
        self._pending[future] = ref
        future.add_done_callback(lambda f: self._pending.pop(f, None))
        return future

    def cancel_pending(self) -> None:
        """Cancel every task still queued or running (used on Ctrl-C)."""
        for ref in list(self._pending.values()):
            self._ray.cancel(ref, force=True)
        self._pending.clear()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            self.cancel_pending()
        if self._owns_ray:
            self._ray.shutdown()
