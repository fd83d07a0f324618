# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""resource_check's observing half: statvfs with a timeout, /proc, and the Docker Engine API.

Nothing here judges; ``_resources.py`` does. Two things are done with care:

* ``statvfs`` runs in a daemon thread per mount, all at once, waited for up to a deadline: a
  hung NFS server (node_exporter's ``--collector.filesystem.mount-timeout``) makes that mount a
  finding instead of hanging the module.
* Containers are sampled concurrently with one-shot stats, twice, ``interval`` apart, and the
  delta is ours: ``stream=false`` without one-shot costs about 2 s per container because the
  daemon primes its own two samples (moby #40437); one-shot (API 1.41, moby #40478) returns at
  once but without ``precpu_stats``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any, Callable, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._resources import (
    container_record,
    cpu_percent,
    disk_usage,
    memory_usage,
    parse_cpu_times,
    parse_loadavg,
    parse_meminfo,
    parse_mounts,
    parse_pressure,
    select_mounts,
)

try:
    import docker  # type: ignore[import-untyped,unused-ignore]
    from docker.errors import DockerException  # type: ignore[import-untyped,unused-ignore]
    from docker.utils import kwargs_from_env, version_gte  # type: ignore[import-untyped,unused-ignore]

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR: Optional[str] = None
except ImportError as _exc:  # pragma: no cover - depends on the host
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = str(_exc)

    class DockerException(Exception):  # type: ignore[no-redef]
        """Stands in when the Docker SDK is missing."""


PROJECT_LABEL = "com.docker.compose.project"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
# one-shot stats exist from Engine API 1.41 (Docker 20.10).
ONE_SHOT_API = "1.41"


def read_text(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


# --- mounts ----------------------------------------------------------------------------------


def statvfs_all(
    mounts: Sequence[Mapping[str, str]], timeout: float, statvfs: Callable[[str], Any] = os.statvfs
) -> list[dict[str, Any]]:
    """statvfs of every mount at once, each in a daemon thread; a mount that does not answer
    within ``timeout`` seconds is reported with an error and left behind (daemon threads do not
    keep the module from exiting)."""
    boxes: list[dict[str, Any]] = []

    def run(box: dict[str, Any]) -> None:
        try:
            box["result"] = statvfs(box["mount"]["mount_point"])
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # OSError mostly (ENOENT, EACCES, EIO); anything else is this mount's problem too.
            box["error"] = exc

    for mount in mounts:
        box: dict[str, Any] = {"mount": dict(mount)}
        thread = threading.Thread(target=run, args=(box,), name="statvfs %s" % mount["mount_point"], daemon=True)
        box["thread"] = thread
        thread.start()
        boxes.append(box)
    deadline = time.monotonic() + timeout
    measured = []
    for box in boxes:
        box["thread"].join(max(0.0, deadline - time.monotonic()))
        mount = box["mount"]
        if "result" in box:
            st = box["result"]
            mount.update(
                disk_usage(st.f_frsize, st.f_blocks, st.f_bfree, st.f_bavail, st.f_files, st.f_ffree, st.f_favail)
            )
        elif "error" in box:
            exc = box["error"]
            missing = isinstance(exc, FileNotFoundError)
            mount["error"] = (
                "does not exist" if missing else "statvfs failed: %s" % (getattr(exc, "strerror", None) or exc)
            )
            mount["error_severity"] = "critical" if missing else "warning"
        else:
            mount["error"] = "statvfs did not answer within %gs (a hung network filesystem?)" % timeout
            mount["error_severity"] = "warning"
        measured.append(mount)
    return measured


# --- host ------------------------------------------------------------------------------------


def host_mounts(settings: Mapping[str, Any], proc: str = "/proc") -> list[dict[str, str]]:
    return select_mounts(parse_mounts(read_text(os.path.join(proc, "self", "mounts")) or ""), settings)


def cpu_times(proc: str = "/proc") -> Optional[tuple[int, int]]:
    text = read_text(os.path.join(proc, "stat"))
    return parse_cpu_times(text) if text else None


def host_facts(proc: str = "/proc") -> dict[str, Any]:
    """Memory, load, core count and pressure stall information (when the kernel has it)."""
    pressure: dict[str, Any] = {}
    for resource in ("cpu", "memory", "io"):
        text = read_text(os.path.join(proc, "pressure", resource))
        if text:
            pressure[resource] = parse_pressure(text)
    loadavg = read_text(os.path.join(proc, "loadavg"))
    return {
        "memory": memory_usage(parse_meminfo(read_text(os.path.join(proc, "meminfo")) or "")),
        "load": parse_loadavg(loadavg) if loadavg else None,
        "cores": os.cpu_count(),
        "pressure": pressure,
    }


# --- Docker ----------------------------------------------------------------------------------


class EngineUnreachable(Exception):
    """The Docker engine cannot be asked (SDK missing, socket absent, engine down)."""


class Engine:
    """The Docker engine, through the Docker SDK's low-level client."""

    def __init__(self, docker_host: Optional[str], timeout: float, workers: int = 32) -> None:
        if not HAS_DOCKER:
            raise EngineUnreachable(
                "the Docker SDK for Python (the 'docker' package) is not installed for %s: %s"
                % ("this Python", DOCKER_IMPORT_ERROR)
            )
        kwargs = kwargs_from_env()
        if docker_host:
            kwargs["base_url"] = docker_host
        self.address = str(kwargs.get("base_url") or DEFAULT_DOCKER_HOST)
        self.workers = workers
        try:
            # version="auto" asks the engine at once: an absent engine fails here.
            self.api = docker.APIClient(version="auto", timeout=timeout, max_pool_size=workers, **kwargs)
        except (DockerException, OSError) as exc:
            raise EngineUnreachable("no Docker engine answers at %s: %s" % (self.address, _short(exc))) from exc
        self.one_shot = version_gte(self.api.api_version, ONE_SHOT_API)

    def containers(self, project: Optional[str], names: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
        """(summaries of the chosen containers, running or not; names asked for that do not exist)."""
        filters: dict[str, Any] = {}
        if project:
            filters["label"] = ["%s=%s" % (PROJECT_LABEL, project)]
        listed = self._call(lambda: self.api.containers(all=True, filters=filters))
        if not names:
            return sorted(listed, key=_summary_name), []
        by_name = {_summary_name(c): c for c in listed}
        return [by_name[n] for n in names if n in by_name], [n for n in names if n not in by_name]

    def _call(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except (DockerException, OSError) as exc:
            raise EngineUnreachable("the Docker engine at %s failed: %s" % (self.address, _short(exc))) from exc
        except Exception as exc:  # requests' errors (timeouts, connection resets) come through here
            raise EngineUnreachable("the Docker engine at %s failed: %s" % (self.address, _short(exc))) from exc

    def stats(self, container_id: str) -> dict[str, Any]:
        if self.one_shot:
            result: dict[str, Any] = self.api.stats(container_id, stream=False, one_shot=True)
        else:
            # Engines before API 1.41: the daemon primes two samples itself (about 2 s, but
            # concurrently for every container); its precpu_stats are the first sample.
            result = self.api.stats(container_id, stream=False)
        return result

    def oom_events(self, since: float, until: float) -> dict[str, int]:
        """OOM events per container id between two times (the engine keeps a bounded buffer)."""
        counts: dict[str, int] = {}

        def read() -> None:
            # "seconds.nanoseconds": the engine reads the fraction as nanoseconds, so it is
            # written with nine digits; a whole-second "since" would count an event of the
            # previous run's last second twice.
            stream = self.api.events(
                since=_timestamp(since),
                until=_timestamp(until),
                filters={"type": "container", "event": "oom"},
                decode=True,
            )
            for event in stream:
                cid = (event.get("Actor") or {}).get("ID") or event.get("id")
                if cid:
                    counts[cid] = counts.get(cid, 0) + 1

        self._call(read)
        return counts

    def close(self) -> None:
        self.api.close()


def _timestamp(seconds: float) -> str:
    whole = int(seconds)
    return "%d.%09d" % (whole, int(round((seconds - whole) * 1e9)) % 1000000000)


def _summary_name(summary: Mapping[str, Any]) -> str:
    names = summary.get("Names") or []
    return str(names[0] if names else summary.get("Id", "?")).lstrip("/")


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."


def _safe(call: Callable[[], Any]) -> tuple[Any, Optional[str]]:
    try:
        return call(), None
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # One container removed between the listing and its stats is that container's problem.
        return None, _short(exc)


def observe(settings: Mapping[str, Any], since: Optional[float]) -> dict[str, Any]:
    """Everything one run measures. Containers and host CPU share one sampling interval."""
    mounts = host_mounts(settings)
    # statvfs runs in its own threads while the containers are sampled.
    disks_box: dict[str, Any] = {}
    disks_thread = threading.Thread(
        target=lambda: disks_box.update(disks=statvfs_all(mounts, settings["mount_timeout"])), daemon=True
    )
    disks_thread.start()

    result: dict[str, Any] = {
        "engine_error": None,
        "events_error": None,
        "containers": None,
        "missing": [],
        "docker_host": None,
    }
    engine: Optional[Engine] = None
    chosen: list[dict[str, Any]] = []
    if settings.get("containers", True):
        try:
            engine = Engine(settings.get("docker_host"), settings["docker_timeout"])
            result["docker_host"] = engine.address
            chosen, result["missing"] = engine.containers(settings.get("project"), settings.get("names") or [])
        except EngineUnreachable as exc:
            result["engine_error"] = str(exc)
            result["docker_host"] = settings.get("docker_host") or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
            engine = None

    interval = settings["interval"]
    with ThreadPoolExecutor(max_workers=max(1, min(32, 2 * len(chosen)))) as pool:
        ids = [c["Id"] for c in chosen]
        running = [c["Id"] for c in chosen if c.get("State") == "running"]
        inspects: dict[str, Future[tuple[Any, Optional[str]]]] = {}
        firsts: dict[str, Future[tuple[Any, Optional[str]]]] = {}
        if engine is not None:
            inspects = {cid: pool.submit(_safe, partial(engine.api.inspect_container, cid)) for cid in ids}
            if running and engine.one_shot:
                # moby's stats collector (daemon/stats/collector.go, 20.10 to 27) publishes every
                # subscribed container, then sleeps its 1 s interval, and wakes at once for the
                # first subscriber after an idle spell. One request first wakes it, so that every
                # container's first sample lands on the same next tick: without it a few land at
                # once and the rest a tick later, and 20 containers took twice as long as one.
                _safe(partial(engine.stats, running[0]))
            firsts = {cid: pool.submit(_safe, partial(engine.stats, cid)) for cid in running}
            for future in firsts.values():
                future.result()
        started = time.monotonic()
        cpu_before = cpu_times()
        seconds: dict[str, Future[tuple[Any, Optional[str]]]] = {}
        if engine is not None and engine.one_shot and running:
            # The second samples land on the collector's next tick, about 1 s later; an engine
            # that answers at once would give a delta over milliseconds: then wait out the
            # interval and ask again.
            for attempt in range(2):
                seconds = {cid: pool.submit(_safe, partial(engine.stats, cid)) for cid in running}
                for future in seconds.values():
                    future.result()
                waited = time.monotonic() - started
                if attempt or waited >= interval / 2:
                    break
                time.sleep(interval - waited)
        else:
            time.sleep(interval)
        cpu_after = cpu_times()
        elapsed = time.monotonic() - started
        records = []
        for summary in chosen:
            cid = summary["Id"]
            inspect, error = inspects[cid].result() if cid in inspects else (None, "not inspected")
            if inspect is None:
                inspect = {"Id": cid, "Name": _summary_name(summary), "State": {"Status": summary.get("State")}}
            first = second = None
            if cid in firsts:
                first, first_error = firsts[cid].result()
                error = error or first_error
                if engine is not None and not engine.one_shot and first is not None:
                    second = first
                    first = dict(first, cpu_stats=first.get("precpu_stats") or {})
                elif cid in seconds:
                    second, second_error = seconds[cid].result()
                    error = error or second_error
            records.append((summary, inspect, first, second, error))

    events: Optional[dict[str, int]] = None
    now = time.time()
    # A previous run "in the future" (a clock set back, a hand-edited state) would make the
    # engine refuse since > until: then the events are simply not asked for.
    if engine is not None and since is not None and since < now:
        try:
            events = engine.oom_events(since, now)
        except EngineUnreachable as exc:
            result["events_error"] = str(exc)
    if engine is not None:
        result["one_shot"] = engine.one_shot
        result["containers"] = [
            container_record(
                inspect,
                first,
                second,
                None if events is None else events.get(summary["Id"], 0),
                error,
            )
            for summary, inspect, first, second, error in records
        ]
        engine.close()

    disks_thread.join(settings["mount_timeout"] + 5)
    result.update(host_facts())
    result["cpu_percent"] = cpu_percent(cpu_before, cpu_after)
    result["interval"] = round(elapsed, 3)
    result["disks"] = disks_box.get("disks") or [
        dict(m, error="statvfs did not answer in time", error_severity="warning") for m in mounts
    ]
    return result
