"""Open or attach to a Ray cluster: the one place the scoring, experiments, size-search and
mixture stages get Ray from.

Ray is an optional extra (``pip install 'instructmine[ray]'``); it is imported here, inside
functions, so ``instructmine --help`` and every local run work without it. :func:`connect`
attaches to a running cluster (``address="auto"`` or ``"host:port"``; None starts a private
single-machine cluster for the block) and disconnects when the block ends, so nothing outlives
the run. :class:`TaskResources` is what one task or actor asks the cluster for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Runner = Literal["local", "inline", "processes", "ray"]  # execute.backend_name maps them

INSTALL_HINT = "pip install 'instructmine[ray]'"


class RayUnavailableError(RuntimeError):
    """Ray was asked for but is not installed (the message names the extra to install)."""


class RayConnectError(RuntimeError):
    """The Ray cluster at the given address could not be reached."""


class TaskResources(BaseModel):
    """What one Ray task (or actor) asks for: CPUs, GPUs, custom resources, retries."""

    model_config = ConfigDict(extra="forbid")

    num_cpus: float = Field(1.0, ge=0, description="CPUs per task (fractions allowed)")
    num_gpus: float = Field(0.0, ge=0, description="GPUs per task (fractions allowed)")
    resources: dict[str, float] = Field(
        default_factory=dict, description="custom resources, e.g. {proxy_slot: 1}"
    )
    max_retries: int = Field(3, ge=0, description="retries after a worker or node dies")

    def remote_options(self) -> dict[str, Any]:
        """Keyword arguments for ``ray.remote(...).options(...)`` of a task."""
        return {
            "num_cpus": self.num_cpus,
            "num_gpus": self.num_gpus,
            "resources": dict(self.resources),
            "max_retries": self.max_retries,
            "retry_exceptions": False,  # a task's own error is a bug to report, not to retry
        }


def import_ray() -> Any:
    """The ``ray`` module, or :class:`RayUnavailableError` naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(
            f"the Ray runner needs Ray, which is not installed: {INSTALL_HINT}"
        ) from None
    return ray


@contextmanager
def connect(address: str | None = "auto") -> Iterator[Any]:
    """Attach to the Ray cluster at ``address`` for the block; yield the ``ray`` module.

    ``"auto"`` finds the cluster this machine belongs to (``ray start`` ran here, or
    ``RAY_ADDRESS`` is set); ``"host:port"`` names its head (GCS) address; None starts a
    private single-machine cluster. When this process is already connected, the connection
    is reused and left open. Every node must be able to import ``instructmine`` and reach the
    run's input and output paths (``docs/ray.md``).
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    if address not in (None, "auto", "local"):
        check_reachable(address)  # Ray itself retries a dead address for a minute or more
    try:
        ray.init(address=address, log_to_driver=False, include_dashboard=False)
    except ConnectionError as err:
        raise RayConnectError(
            f"cannot reach a Ray cluster at {address!r} ({err}); start one with "
            "`ray start --head` or pass its head address as host:port"
        ) from None
    try:
        yield ray
    finally:
        ray.shutdown()


CONNECT_TIMEOUT = 3.0  # seconds to wait for a head node's port to answer


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Raise :class:`RayConnectError` at once when nothing listens at ``address``
    (``host:port``, optionally ``ray://host:port``), instead of Ray's long retry loop."""
    import socket

    target = address.split("://", 1)[-1]
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise RayConnectError(
            f"--ray-address {address!r} is not host:port (e.g. 10.0.0.5:6379) nor 'auto'"
        )
    try:
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout):
            pass
    except OSError as err:
        why = "timed out" if isinstance(err, TimeoutError) else (err.strerror or str(err))
        raise RayConnectError(
            f"cannot reach a Ray cluster at {address!r} ({why}); start one with "
            "`ray start --head` or pass its head address as host:port"
        ) from None


class RaySettings(BaseModel):
    """Config keys of a stage that can dispatch its units of work as Ray tasks.

    ``runner: ray`` sends each unit (a proxy experiment, a size-search trial, a mixture) to the
    cluster at ``ray_address`` asking for ``ray_resources``; results go into the same table as
    a local run's, and finished units are never run again.
    """

    model_config = ConfigDict(extra="forbid")

    runner: Runner = Field(
        "local", description="'local' (inline, or processes when workers > 1), or 'ray' tasks"
    )
    ray_address: str | None = Field("auto", description="'auto', 'host:port' or None: private")
    ray_resources: TaskResources = Field(
        default_factory=TaskResources, description="what each Ray task asks for"
    )
