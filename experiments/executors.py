"""Where runs execute, behind the ``concurrent.futures.Executor`` interface.

:class:`SerialExecutor` runs each task in this process when it is submitted (for debugging);
:class:`RayExecutor` runs tasks on Ray, locally or on a cluster, and hands back Ray's own
``ObjectRef.future()``. The runner sees only ``submit`` and ``Future`` objects, so the model
and the runner know nothing of Ray; Mesa's planned batch runner uses the same interface.

Local means local: with no address Ray starts a cluster of its own (``address="local"``),
never joining one it finds on the machine. A given address is checked before anything is
written (:func:`check_address`, :func:`check_reachable`) and the connection has a time limit:
Ray itself retries an address that does not answer for more than ten minutes.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from abm.files.errors import InputError, ResourceError, clipped

#: Seconds allowed for connecting to a Ray cluster at a given address.
CONNECT_TIMEOUT_S = 30.0
_ADDRESS = re.compile(r"^(?P<scheme>ray://)?(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
                      r"|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})$")
_ADDRESS_ALLOWED = ("allowed is auto (the cluster this machine belongs to), HOST:PORT of a Ray "
                    "head node (e.g. 10.0.0.5:6379) or ray://HOST:PORT (Ray Client, e.g. "
                    "ray://10.0.0.5:10001)")
_AUTH_HINT = ("if the cluster uses token authentication (Ray's default since 2.59), set "
              "RAY_AUTH_MODE=token and give its token in RAY_AUTH_TOKEN or ~/.ray/auth_token")


def check_address(address: str | None) -> str | None:
    """``address`` if it is a Ray address this runner can use, None for a local Ray (no
    address, or ``local``); raise :class:`InputError` for anything else."""
    if address in (None, "local", "auto"):
        return None if address == "local" else address
    match = _ADDRESS.match(address)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise InputError(f"--address '{clipped(address)}': {_ADDRESS_ALLOWED}")
    return address


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise :class:`ResourceError` unless something accepts TCP connections at ``address``
    (a checked HOST:PORT or ray://HOST:PORT) within ``timeout`` seconds (at most 10)."""
    match = _ADDRESS.match(address)
    host, port = match["host"].strip("[]"), int(match["port"])
    hosts = [host]
    if host in ("localhost", "127.0.0.1", "::1"):  # Ray itself dials the machine's own address
        try:
            import ray.util

            hosts.append(ray.util.get_node_ip_address())
        except Exception:  # only an extra address to try
            pass
    reason = ""
    for candidate in hosts:
        try:
            socket.create_connection((candidate, port), timeout=min(timeout, 10.0)).close()
            return
        except OSError as error:
            reason = error.strerror or type(error).__name__
    raise ResourceError(f"--address {clipped(address)}: nothing answers there ({reason}): is "
                        "the Ray head node running (`ray start --head`) and the port right?")


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

    With no ``address`` a new local Ray is started with ``num_cpus`` CPUs (all by default);
    with ``address`` ("auto", "10.0.0.5:6379", "ray://host:10001") an existing cluster is
    joined, within ``connect_timeout`` seconds. If this process is already connected to Ray
    (a test session, a notebook), that connection is used. ``workers`` is how many tasks the
    runner keeps in flight: ``num_cpus`` if given, else the cluster's CPUs. ``address_used``
    is the cluster's own address (its GCS), for the manifest. Failing to start or reach Ray
    raises :class:`ResourceError`.
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 max_retries: int = 3, connect_timeout: float = CONNECT_TIMEOUT_S):
        import ray

        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        options = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
        if self._owns_ray and address is None:
            # In this thread: Ray's local processes end with the thread that started them.
            try:
                ray.init(address="local", num_cpus=num_cpus, **options)
            except Exception as error:
                raise ResourceError(f"could not start a local Ray: {_first_line(error)}") from None
        elif self._owns_ray:
            if address != "auto":  # a dead port answers in a second, not after Ray's retries
                check_reachable(check_address(address), connect_timeout)
            _connect(ray, address, connect_timeout, options)
        self.address_used = ray.get_runtime_context().gcs_address
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


def _connect(ray, address: str, timeout: float, options: dict) -> None:
    """``ray.init(address)``, given up after ``timeout`` seconds (the attempt is left to end in
    a daemon thread: Ray offers no way to cancel it)."""
    outcome: dict[str, BaseException | None] = {}

    def attempt() -> None:
        try:
            ray.init(address=address, **options)
            outcome["error"] = None
        except BaseException as error:  # reported by the caller
            outcome["error"] = error

    thread = threading.Thread(target=attempt, name="ray-connect", daemon=True)
    thread.start()
    thread.join(timeout)
    if "error" not in outcome:
        raise ResourceError(f"--address {clipped(address)}: no Ray cluster answered within "
                            f"{timeout:g} s; {_AUTH_HINT}")
    if outcome["error"] is not None:
        raise ResourceError(f"--address {clipped(address)}: could not connect to the Ray "
                            f"cluster ({_first_line(outcome['error'])}); {_AUTH_HINT}")


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return clipped(f"{type(error).__name__}: {lines[0] if lines else ''}", 200)
