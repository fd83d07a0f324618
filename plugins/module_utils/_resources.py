# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""resource_check's pure half: options, /proc parsers, judges, forecast and the state kept between runs.

Everything here takes plain data (the text of /proc files, statvfs numbers, the Engine API's
inspect and stats documents, the previous run's state) and returns plain data and findings, so
the unit tests feed it what a host showed without a host. The probes live in
``_resources_probe.py``.

Formulas and their sources:

* disk and inode use as ``df`` prints it: ``used / (used + avail)`` with ``avail`` the blocks an
  unprivileged user may still take (the root reserve counts as used; node_exporter #269);
* memory use ``1 - MemAvailable / MemTotal`` (node_exporter's NodeMemoryHighUtilization; Ansible's
  ``nocache.free`` overstates what is free);
* container CPU % and memory as ``docker stats`` computes them (docker/cli stats_helpers.go):
  CPU delta over system CPU delta times online CPUs, memory usage minus inactive file pages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    Finding,
    FindingError,
    bounded_number,
    linear_fit,
    make_finding,
    parse_percent,
    severity_for_value,
)
from ansible_collections.stronghold.ops.plugins.module_utils._options import read_seconds

STATE_KIND = "resource_check"
STATE_VERSION = 1

# node_exporter's defaults (collector/filesystem_linux.go): pseudo filesystems and the mount
# points of the kernel, systemd credentials and container storage are not disks to watch.
DEFAULT_EXCLUDE_MOUNT_POINTS = (
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
)
DEFAULT_EXCLUDE_FS_TYPES = (
    r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs"
    r"|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$"
)

# A forecast needs a trend: at least this many points (the current run included) over at least
# this many seconds, so two runs a minute apart never predict a disk full "in 3 hours".
FORECAST_MIN_POINTS = 3
FORECAST_MIN_SPAN = 3600.0

PERCENT_OPTIONS = (
    "disk_warning",
    "disk_critical",
    "inode_warning",
    "inode_critical",
    "memory_warning",
    "memory_critical",
    "cpu_warning",
    "cpu_critical",
    "pressure_warning",
    "pressure_critical",
    "container_cpu_warning",
    "container_cpu_critical",
    "container_memory_warning",
    "container_memory_critical",
    "throttle_warning",
)
PAIRS = (
    ("disk_warning", "disk_critical"),
    ("inode_warning", "inode_critical"),
    ("memory_warning", "memory_critical"),
    ("cpu_warning", "cpu_critical"),
    ("load_warning", "load_critical"),
    ("pressure_warning", "pressure_critical"),
    ("container_cpu_warning", "container_cpu_critical"),
    ("container_memory_warning", "container_memory_critical"),
)


class ResourceError(FindingError):
    """An option of resource_check is out of range or malformed."""


# --- options ----------------------------------------------------------------------------------


def check_options(params: Mapping[str, Any]) -> dict[str, Any]:
    """The module's options checked and converted; ResourceError names the option at fault."""
    settings: dict[str, Any] = dict(params)
    try:
        for name in PERCENT_OPTIONS:
            settings[name] = _percent(params.get(name), name)
        for name in ("load_warning", "load_critical"):
            value = params.get(name)
            settings[name] = None if value is None else bounded_number(value, name, minimum=0, maximum=1000)
        for low, high in PAIRS:
            if settings[low] is not None and settings[high] is not None and settings[low] > settings[high]:
                raise ResourceError(
                    "%s (%s) is above %s (%s): the warning threshold must not exceed the critical one"
                    % (low, _num(settings[low]), high, _num(settings[high]))
                )
        settings["hysteresis"] = bounded_number(params.get("hysteresis", 5), "hysteresis", minimum=0, maximum=100)
        settings["forecast_days"] = bounded_number(
            params.get("forecast_days", 14), "forecast_days", minimum=0, maximum=3650
        )
        history = params.get("history", 30)
        if isinstance(history, bool) or not isinstance(history, int) or not 1 <= history <= 1000:
            raise ResourceError("history must be a whole number of runs from 1 to 1000, got %r" % (history,))
        settings["interval"] = read_seconds(params.get("interval", 1), "interval", above=0, maximum=60)
        settings["mount_timeout"] = read_seconds(params.get("mount_timeout", 5), "mount_timeout", above=0, maximum=600)
        settings["docker_timeout"] = read_seconds(
            params.get("docker_timeout", 30), "docker_timeout", above=0, maximum=600
        )
    except ResourceError:
        raise
    except FindingError as exc:
        raise ResourceError(str(exc)) from exc
    mounts = params.get("mounts") or []
    for mount in mounts:
        if not isinstance(mount, str) or not mount.startswith("/") or "\x00" in mount:
            raise ResourceError("mounts: %r is not an absolute path" % (mount,))
    settings["mounts"] = list(dict.fromkeys(mounts))
    for name, default in (
        ("exclude_mount_points", DEFAULT_EXCLUDE_MOUNT_POINTS),
        ("exclude_fs_types", DEFAULT_EXCLUDE_FS_TYPES),
    ):
        pattern = params.get(name)
        pattern = default if pattern is None else pattern
        try:
            settings[name] = re.compile(pattern) if pattern else None
        except re.error as exc:
            raise ResourceError("%s is not a valid regular expression (%s): %r" % (name, exc, pattern)) from exc
    names = params.get("names") or []
    if any(not isinstance(n, str) or not n.strip() for n in names):
        raise ResourceError("names: a container name cannot be empty")
    settings["names"] = [n.strip().lstrip("/") for n in names]
    project = params.get("project")
    if project is not None and not str(project).strip():
        raise ResourceError("project cannot be an empty string (omit it to check every container)")
    return settings


def _percent(value: Any, name: str) -> Optional[float]:
    if value is None:
        return None
    try:
        return parse_percent(value)
    except FindingError as exc:
        raise ResourceError("%s: %s" % (name, exc)) from exc


def _num(value: float) -> str:
    return ("%d" % value) if float(value).is_integer() else ("%g" % value)


# --- /proc parsers ----------------------------------------------------------------------------


def _unescape_mount(text: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash in octal (\\040 ...)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)


def parse_mounts(text: str) -> list[dict[str, str]]:
    """Mounts of /proc/self/mounts as ``{device, mount_point, fs_type}``, first mount of a point kept."""
    mounts: list[dict[str, str]] = []
    seen: set[str] = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape_mount(fields[1])
        if point in seen:
            continue
        seen.add(point)
        mounts.append({"device": _unescape_mount(fields[0]), "mount_point": point, "fs_type": fields[2]})
    return mounts


def select_mounts(mounts: Sequence[Mapping[str, str]], settings: Mapping[str, Any]) -> list[dict[str, str]]:
    """The mounts to check: O(mounts) when given (as listed), else every mount not excluded."""
    if settings.get("mounts"):
        known = {m["mount_point"]: m for m in mounts}
        return [
            dict(known.get(path) or {"device": "", "mount_point": path, "fs_type": ""}) for path in settings["mounts"]
        ]
    points = settings.get("exclude_mount_points")
    types = settings.get("exclude_fs_types")
    chosen = []
    for mount in mounts:
        if points is not None and points.search(mount["mount_point"]):
            continue
        if types is not None and types.search(mount["fs_type"]):
            continue
        chosen.append(dict(mount))
    return chosen


def parse_meminfo(text: str) -> dict[str, int]:
    """/proc/meminfo as bytes per field."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, dummy, rest = line.partition(":")
        parts = rest.split()
        if not parts:
            continue
        try:
            number = int(parts[0])
        except ValueError:
            continue
        values[name.strip()] = number * 1024 if len(parts) > 1 and parts[1] == "kB" else number
    return values


def parse_cpu_times(text: str) -> Optional[tuple[int, int]]:
    """(busy, total) jiffies of the aggregate ``cpu`` line of /proc/stat; iowait counts as idle."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            numbers = [int(x) for x in fields[1:]]
            # user nice system idle iowait irq softirq steal guest guest_nice; guest time is
            # already inside user and nice, so only the first eight are summed.
            first = numbers[:8]
            idle = sum(first[3:5])
            total = sum(first)
            return total - idle, total
    return None


def cpu_percent(before: Optional[tuple[int, int]], after: Optional[tuple[int, int]]) -> Optional[float]:
    """CPU use in percent of every core between two /proc/stat samples."""
    if before is None or after is None:
        return None
    total = after[1] - before[1]
    if total <= 0:
        return None
    return round(max(0.0, min(100.0, 100.0 * (after[0] - before[0]) / total)), 1)


def parse_loadavg(text: str) -> Optional[tuple[float, float, float]]:
    parts = text.split()
    if len(parts) < 3:
        return None
    try:
        return float(parts[0]), float(parts[1]), float(parts[2])
    except ValueError:
        return None


def parse_pressure(text: str) -> dict[str, dict[str, float]]:
    """A /proc/pressure/* file: ``{"some": {"avg10": .., "avg60": .., "avg300": .., "total": ..}, "full": ...}``."""
    result: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0] not in ("some", "full"):
            continue
        values: dict[str, float] = {}
        for item in fields[1:]:
            key, dummy, number = item.partition("=")
            try:
                values[key] = float(number)
            except ValueError:
                continue
        result[fields[0]] = values
    return result


# --- host measurements -----------------------------------------------------------------------


def disk_usage(
    frsize: int, blocks: int, bfree: int, bavail: int, files: int, ffree: int, favail: int
) -> dict[str, Any]:
    """Sizes and percentages of one statvfs, as df prints them (the root reserve counts as used)."""
    used = max(0, blocks - bfree) * frsize
    avail = max(0, bavail) * frsize
    usable = used + avail
    inodes_used = max(0, files - ffree)
    inodes_usable = inodes_used + max(0, favail)
    return {
        "size_bytes": blocks * frsize,
        "used_bytes": used,
        "avail_bytes": avail,
        "used_percent": round(100.0 * used / usable, 2) if usable > 0 else None,
        "inodes_total": files,
        "inodes_used": inodes_used,
        # Filesystems without an inode table (btrfs, vfat, some FUSE) report 0 inodes.
        "inodes_used_percent": round(100.0 * inodes_used / inodes_usable, 2)
        if files > 0 and inodes_usable > 0
        else None,
    }


def memory_usage(meminfo: Mapping[str, int]) -> Optional[dict[str, Any]]:
    total = meminfo.get("MemTotal")
    if not total:
        return None
    available = meminfo.get("MemAvailable")
    source = "MemAvailable"
    if available is None:
        # Kernels before 3.14 have no MemAvailable; free + buffers + cache overstates what is free.
        available = meminfo.get("MemFree", 0) + meminfo.get("Buffers", 0) + meminfo.get("Cached", 0)
        source = "MemFree+Buffers+Cached"
    available = min(available, total)
    return {
        "total_bytes": total,
        "available_bytes": available,
        "used_percent": round(100.0 * (total - available) / total, 2),
        "source": source,
        "swap_total_bytes": meminfo.get("SwapTotal", 0),
        "swap_used_bytes": max(0, meminfo.get("SwapTotal", 0) - meminfo.get("SwapFree", 0)),
    }


# --- containers ------------------------------------------------------------------------------


def _get(document: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(document, Mapping):
            return None
        document = document.get(key)
    return document


def _int(value: Any) -> Optional[int]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def container_memory(stats: Mapping[str, Any]) -> dict[str, Any]:
    """Memory used as docker stats shows it: usage minus inactive file pages (page cache the kernel can drop)."""
    memory = stats.get("memory_stats") or {}
    usage = _int(memory.get("usage"))
    limit = _int(memory.get("limit"))
    inner = memory.get("stats") or {}
    # docker/cli calculateMemUsageUnixNoCache: cgroup v1 has total_inactive_file, v2 has
    # inactive_file only; Docker <= 19.03 subtracted "cache" instead (moby #40727).
    if "total_inactive_file" in inner:
        cache, cgroup = inner.get("total_inactive_file"), "v1"
    elif "inactive_file" in inner and "total_cache" not in inner:
        cache, cgroup = inner.get("inactive_file"), "v2"
    else:
        cache, cgroup = inner.get("cache", 0), "v1"
    used = None
    if usage is not None:
        cache_bytes = _int(cache) or 0
        used = usage - cache_bytes if cache_bytes < usage else usage
    percent = round(100.0 * used / limit, 2) if used is not None and limit else None
    return {
        "used_bytes": used,
        "limit_bytes": limit,
        "used_percent": percent,
        "cgroup": cgroup,
        # cgroup v2 (memory.events via the stats, when the engine passes it on).
        "oom_kill_counter": _int(inner.get("oom_kill")),
    }


def container_cpu(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """CPU % between two one-shot samples (one-shot gives no precpu_stats: the delta is ours)."""
    cpu1 = first.get("cpu_stats") or {}
    cpu2 = second.get("cpu_stats") or {}
    usage1 = _int(_get(cpu1, "cpu_usage", "total_usage"))
    usage2 = _int(_get(cpu2, "cpu_usage", "total_usage"))
    system1 = _int(cpu1.get("system_cpu_usage"))
    system2 = _int(cpu2.get("system_cpu_usage"))
    online = _int(cpu2.get("online_cpus")) or len(_get(cpu2, "cpu_usage", "percpu_usage") or []) or None
    percent = None
    if None not in (usage1, usage2, system1, system2, online):
        system_delta = system2 - system1  # type: ignore[operator]
        cpu_delta = usage2 - usage1  # type: ignore[operator]
        if system_delta > 0 and cpu_delta >= 0:
            percent = round(100.0 * cpu_delta / system_delta * online, 2)  # type: ignore[operator]
    periods1 = _int(_get(cpu1, "throttling_data", "periods")) or 0
    periods2 = _int(_get(cpu2, "throttling_data", "periods")) or 0
    throttled1 = _int(_get(cpu1, "throttling_data", "throttled_periods")) or 0
    throttled2 = _int(_get(cpu2, "throttling_data", "throttled_periods")) or 0
    periods = periods2 - periods1
    throttled = throttled2 - throttled1
    return {
        "cpu_percent": percent,
        "online_cpus": online,
        "throttled_percent": round(100.0 * throttled / periods, 1) if periods > 0 and throttled >= 0 else None,
        "throttled_periods": throttled2,
    }


def cpu_limit(inspect: Mapping[str, Any], online_cpus: Optional[int]) -> Optional[float]:
    """CPUs the container may use: --cpus (NanoCpus), else quota/period, else every online CPU."""
    host = inspect.get("HostConfig") or {}
    nano = _int(host.get("NanoCpus")) or 0
    if nano > 0:
        return nano / 1e9
    quota = _int(host.get("CpuQuota")) or 0
    period = _int(host.get("CpuPeriod")) or 100000
    if quota > 0:
        return quota / period
    return float(online_cpus) if online_cpus else None


def container_record(
    inspect: Mapping[str, Any],
    first: Optional[Mapping[str, Any]],
    second: Optional[Mapping[str, Any]],
    oom_events: Optional[int],
    error: Optional[str] = None,
) -> dict[str, Any]:
    """What the module returns for one container, from its inspect document and two stats samples."""
    state = inspect.get("State") or {}
    labels = _get(inspect, "Config", "Labels") or {}
    record: dict[str, Any] = {
        "name": str(inspect.get("Name") or inspect.get("Id") or "?").lstrip("/"),
        "id": str(inspect.get("Id") or "")[:12],
        "full_id": inspect.get("Id"),
        "project": labels.get("com.docker.compose.project"),
        "service": labels.get("com.docker.compose.service"),
        "status": state.get("Status"),
        "running": bool(state.get("Running")),
        "restart_count": _int(inspect.get("RestartCount")) or 0,
        "oom_killed": bool(state.get("OOMKilled")),
        "finished_at": state.get("FinishedAt"),
        "started_at": state.get("StartedAt"),
        "oom_events": oom_events,
        "cpu_percent": None,
        "cpu_limit": None,
        "cpu_percent_of_limit": None,
        "throttled_percent": None,
        "throttled_periods": None,
        "memory_used_bytes": None,
        "memory_limit_bytes": None,
        "memory_percent": None,
        "memory_limited": bool(_int(_get(inspect, "HostConfig", "Memory"))),
        "oom_kill_counter": None,
        "error": error,
    }
    if first is not None and second is not None:
        cpu = container_cpu(first, second)
        limit = cpu_limit(inspect, cpu["online_cpus"])
        record.update(
            cpu_percent=cpu["cpu_percent"],
            cpu_limit=limit,
            cpu_percent_of_limit=(
                round(cpu["cpu_percent"] / limit, 2) if cpu["cpu_percent"] is not None and limit else None
            ),
            throttled_percent=cpu["throttled_percent"],
            throttled_periods=cpu["throttled_periods"],
        )
    if second is not None:
        memory = container_memory(second)
        record.update(
            memory_used_bytes=memory["used_bytes"],
            memory_limit_bytes=memory["limit_bytes"],
            memory_percent=memory["used_percent"],
            oom_kill_counter=memory["oom_kill_counter"],
        )
    return record


# --- judging ---------------------------------------------------------------------------------


def judge(
    value: float,
    warning: Optional[float],
    critical: Optional[float],
    raised: Optional[str],
    margin: float,
) -> tuple[str, Optional[float]]:
    """(severity, the value it must drop below to clear) with hysteresis.

    A value that raised a warning (or a critical) on the previous run keeps it until it drops
    below the threshold minus ``margin`` points, as Netdata's disk alarms do, so a value sitting
    at a threshold does not flap between reports.
    """
    severity = severity_for_value(value, warning, critical)
    if margin <= 0:
        return severity, None
    if raised == "critical" and critical is not None and severity != "critical" and value > critical - margin:
        return "critical", critical - margin
    if raised in ("warning", "critical") and warning is not None and severity == "ok" and value > warning - margin:
        return "warning", warning - margin
    return severity, None


def forecast(points: Sequence[tuple[float, float]], now: float, current: float) -> Optional[dict[str, Any]]:
    """When the percentage reaches 100 at the rate fitted over ``points`` (the current one included)."""
    usable = [p for p in points if isinstance(p[0], (int, float)) and isinstance(p[1], (int, float)) and p[0] <= now]
    if len(usable) < FORECAST_MIN_POINTS:
        return None
    span = max(p[0] for p in usable) - min(p[0] for p in usable)
    if span < FORECAST_MIN_SPAN:
        return None
    slope = linear_fit(usable)
    if slope is None or not math.isfinite(slope):
        return None
    info: dict[str, Any] = {
        "points": len(usable),
        "span_days": round(span / 86400.0, 2),
        "percent_per_day": round(slope * 86400.0, 3),
        "days_to_full": None,
    }
    if slope > 0:
        info["days_to_full"] = round(max(0.0, 100.0 - current) / slope / 86400.0, 1)
    return info


def _say_days(days: float) -> str:
    if days < 1:
        return "%d hours" % max(1, round(days * 24))
    return "%s days" % _num(round(days, 1))


def _say_bytes(number: Optional[int]) -> str:
    if number is None:
        return "?"
    value = float(number)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1024
    return "%d B" % number  # pragma: no cover


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def clean_history(history: Any) -> list[dict[str, Any]]:
    """The kept runs of a state file, with anything that is not a finite number dropped.

    The file is ours but may have been edited or damaged: an entry without a time is dropped,
    and a NaN (which Python's json reads) never reaches a fit or the next state file.
    """
    if not isinstance(history, list):
        return []
    cleaned = []
    for entry in history:
        if not isinstance(entry, Mapping) or not _finite(entry.get("t")):
            continue
        kept: dict[str, Any] = {"t": float(entry["t"])}
        for key in ("used_percent", "inodes_used_percent"):
            values = entry.get(key)
            if isinstance(values, Mapping):
                kept[key] = {str(k): float(v) for k, v in values.items() if _finite(v)}
        if _finite(entry.get("memory_percent")):
            kept["memory_percent"] = float(entry["memory_percent"])
        cleaned.append(kept)
    return cleaned


def _key(check: str, target: str) -> str:
    return "%s|%s" % (check, target)


class Judge:
    """Turns one run's measurements into findings, with the previous run's state (raised
    severities for hysteresis, history for forecasts, container counters for deltas)."""

    def __init__(self, settings: Mapping[str, Any], previous: Optional[Mapping[str, Any]], now: float) -> None:
        self.s = settings
        self.prev: Mapping[str, Any] = previous or {}
        self.now = now
        raised = self.prev.get("raised")
        self.prev_raised: Mapping[str, Any] = raised if isinstance(raised, Mapping) else {}
        history = self.prev.get("history")
        self.history: list[dict[str, Any]] = clean_history(history)
        self.raised: dict[str, str] = {}
        self.findings: list[Finding] = []

    def _threshold(
        self, check: str, target: str, value: float, warning: Optional[float], critical: Optional[float]
    ) -> tuple[str, Optional[float]]:
        previous = self.prev_raised.get(_key(check, target))
        severity, clears_below = judge(value, warning, critical, previous, self.s["hysteresis"])
        if severity in ("warning", "critical"):
            self.raised[_key(check, target)] = severity
        return severity, clears_below

    def _add(self, check: str, target: str, severity: str, summary: str, details: dict[str, Any]) -> None:
        self.findings.append(make_finding(check, target, severity, summary, details))

    # -- host

    def disk(self, mount: Mapping[str, Any]) -> None:
        point = mount["mount_point"]
        if mount.get("error"):
            self._add(
                "resources.disk",
                point,
                mount.get("error_severity") or "critical",
                "%s: %s" % (point, mount["error"]),
                {"fs_type": mount.get("fs_type"), "device": mount.get("device")},
            )
            return
        for check, key, warning, critical, what in (
            ("resources.disk", "used_percent", self.s["disk_warning"], self.s["disk_critical"], "space"),
            ("resources.inodes", "inodes_used_percent", self.s["inode_warning"], self.s["inode_critical"], "inodes"),
        ):
            value = mount.get(key)
            if value is None:
                continue
            self._usage_finding(check, point, value, warning, critical, what, key, mount)

    def _usage_finding(
        self,
        check: str,
        point: str,
        value: float,
        warning: Optional[float],
        critical: Optional[float],
        what: str,
        key: str,
        mount: Mapping[str, Any],
    ) -> None:
        severity, clears_below = self._threshold(check, point, value, warning, critical)
        details: dict[str, Any] = {
            "used_percent": value,
            "warning": warning,
            "critical": critical,
            "fs_type": mount.get("fs_type"),
            "device": mount.get("device"),
        }
        if what == "space":
            details.update(
                size_bytes=mount.get("size_bytes"),
                used_bytes=mount.get("used_bytes"),
                avail_bytes=mount.get("avail_bytes"),
            )
            summary = "%s is %s%% full (%s available of %s)" % (
                point,
                _num(round(value, 1)),
                _say_bytes(mount.get("avail_bytes")),
                _say_bytes(mount.get("size_bytes")),
            )
        else:
            details.update(inodes_total=mount.get("inodes_total"), inodes_used=mount.get("inodes_used"))
            summary = "%s has used %s%% of its inodes (%s of %s)" % (
                point,
                _num(round(value, 1)),
                mount.get("inodes_used"),
                mount.get("inodes_total"),
            )
        summary += self._threshold_words(severity, warning, critical, clears_below)
        days = self.s["forecast_days"]
        if days > 0:
            points = [(float(h["t"]), float(h[key][point])) for h in self._history_with(key, point)]
            points.append((self.now, value))
            trend = forecast(points, self.now, value)
            if trend is not None:
                details["forecast"] = trend
                full = trend["days_to_full"]
                if full is not None and full < days:
                    summary += "; full in %s at the rate of the last %s days" % (
                        _say_days(full),
                        _num(trend["span_days"]),
                    )
                    if severity in ("ok", "info"):
                        severity = "warning"
                        summary += " (forecast_days %s)" % _num(days)
        if clears_below is not None:
            details["held_until_below"] = clears_below
        self._add(check, point, severity, summary, details)

    def _history_with(self, key: str, point: str) -> list[Mapping[str, Any]]:
        # clean_history left only finite numbers.
        return [entry for entry in self.history if point in (entry.get(key) or {})]

    @staticmethod
    def _threshold_words(
        severity: str, warning: Optional[float], critical: Optional[float], held: Optional[float]
    ) -> str:
        if held is not None:
            return ", held at %s until it drops below %s%% (hysteresis)" % (severity, _num(held))
        if severity == "critical" and critical is not None:
            return ", above the %s%% critical threshold" % _num(critical)
        if severity == "warning" and warning is not None:
            return ", above the %s%% warning threshold" % _num(warning)
        return ""

    def memory(self, memory: Optional[Mapping[str, Any]]) -> None:
        if memory is None:
            self._add("resources.memory", "memory", "warning", "cannot read /proc/meminfo: no MemTotal", {})
            return
        value = memory["used_percent"]
        warning, critical = self.s["memory_warning"], self.s["memory_critical"]
        severity, held = self._threshold("resources.memory", "memory", value, warning, critical)
        summary = "memory %s%% used (%s available of %s, from %s)" % (
            _num(round(value, 1)),
            _say_bytes(memory["available_bytes"]),
            _say_bytes(memory["total_bytes"]),
            memory["source"],
        ) + self._threshold_words(severity, warning, critical, held)
        details = dict(memory, warning=warning, critical=critical)
        if held is not None:
            details["held_until_below"] = held
        self._add("resources.memory", "memory", severity, summary, details)

    def cpu(self, percent: Optional[float], interval: float) -> None:
        if percent is None:
            self._add("resources.cpu", "cpu", "info", "CPU use could not be sampled from /proc/stat", {})
            return
        warning, critical = self.s["cpu_warning"], self.s["cpu_critical"]
        severity, held = self._threshold("resources.cpu", "cpu", percent, warning, critical)
        summary = "CPU %s%% busy over %ss" % (_num(percent), _num(round(interval, 2)))
        summary += self._threshold_words(severity, warning, critical, held)
        details = {"used_percent": percent, "interval": interval, "warning": warning, "critical": critical}
        self._add("resources.cpu", "cpu", severity, summary, details)

    def load(self, load: Optional[Sequence[float]], cores: Optional[int]) -> None:
        if load is None or not cores:
            self._add("resources.load", "load", "info", "the load average could not be read", {})
            return
        per_core = round(load[1] / cores, 2)
        warning, critical = self.s["load_warning"], self.s["load_critical"]
        # Load is not a percentage: its hysteresis margin is that many percent of the threshold.
        previous = self.prev_raised.get(_key("resources.load", "load"))
        margin = (warning if warning is not None else (critical or 0.0)) * self.s["hysteresis"] / 100.0
        severity, held = judge(per_core, warning, critical, previous, margin)
        if severity in ("warning", "critical"):
            self.raised[_key("resources.load", "load")] = severity
        summary = "load %s %s %s on %d cores (%s per core over 5 minutes)" % (
            _num(load[0]),
            _num(load[1]),
            _num(load[2]),
            cores,
            _num(per_core),
        )
        if severity == "critical":
            summary += ", above the critical %s per core" % _num(critical or 0)
        elif severity == "warning":
            summary += ", above the warning %s per core" % _num(warning or 0)
        details = {"load1": load[0], "load5": load[1], "load15": load[2], "cores": cores, "load5_per_core": per_core}
        details.update(warning=warning, critical=critical)
        self._add("resources.load", "load", severity, summary, details)

    def pressure(self, pressure: Mapping[str, Mapping[str, Mapping[str, float]]]) -> None:
        warning, critical = self.s["pressure_warning"], self.s["pressure_critical"]
        for resource in sorted(pressure):
            some = pressure[resource].get("some") or {}
            value = some.get("avg60")
            if value is None:
                continue
            target = "pressure/%s" % resource
            severity, held = self._threshold("resources.pressure", target, value, warning, critical)
            summary = "%s pressure: some tasks stalled %s%% of the last minute" % (resource, _num(value))
            summary += self._threshold_words(severity, warning, critical, held)
            details = {"some": dict(some), "full": dict(pressure[resource].get("full") or {})}
            details.update(warning=warning, critical=critical)
            self._add("resources.pressure", target, severity, summary, details)

    # -- containers

    def engine_unreachable(self, docker_host: str, error: str) -> None:
        self._add(
            "resources.containers",
            docker_host,
            "critical",
            "cannot check containers: %s" % error,
            {"docker_host": docker_host},
        )

    def missing_containers(self, names: Sequence[str]) -> None:
        for name in names:
            self._add("resources.container", name, "critical", "container %s does not exist" % name, {})

    def container(self, record: dict[str, Any]) -> None:
        name = record["name"]
        previous = self._previous_container(record)
        first_run = previous is None
        record["restarts_since_last_run"] = self._restart_delta(record, previous)
        record["oom_kills_since_last_run"] = self._oom_delta(record, previous)
        if record.get("error"):
            self._add("resources.container", name, "warning", "%s: %s" % (name, record["error"]), {})
        self._container_cpu(record)
        self._container_memory(record)
        self._container_oom(record, first_run)
        self._container_restarts(record, first_run)

    def _previous_container(self, record: Mapping[str, Any]) -> Optional[Mapping[str, Any]]:
        containers = self.prev.get("containers")
        if not isinstance(containers, Mapping):
            return None
        previous = containers.get(record["name"])
        if not isinstance(previous, Mapping) or previous.get("id") != record["full_id"]:
            return None
        return previous

    @staticmethod
    def _restart_delta(record: Mapping[str, Any], previous: Optional[Mapping[str, Any]]) -> Optional[int]:
        """Restarts since the previous run of the same container (a new id is a new container).

        RestartCount counts the restart policy's restarts and starts again from 0 at a manual
        ``docker start``, so a StartedAt newer than the previous run's counts as one restart too.
        """
        if previous is None:
            return None
        count, before = record["restart_count"], previous.get("restart_count")
        restarts = count - before if isinstance(before, int) and count >= before else count
        started, started_before = record.get("started_at"), previous.get("started_at")
        if started and started_before and started != started_before:
            restarts = max(restarts, 1)
        return restarts

    @staticmethod
    def _oom_delta(record: Mapping[str, Any], previous: Optional[Mapping[str, Any]]) -> Optional[int]:
        if previous is None:
            return None
        kills = 0
        # The engine's oom events since the previous run (its event buffer is bounded, so this
        # is a floor), the cgroup v2 oom_kill counter (it restarts at 0 when the cgroup is
        # recreated), and State.OOMKilled of an exit that happened after the previous run.
        if isinstance(record.get("oom_events"), int):
            kills = max(kills, record["oom_events"])
        counter, before = record.get("oom_kill_counter"), previous.get("oom_kill_counter")
        if isinstance(counter, int):
            kills = max(kills, counter - before if isinstance(before, int) and counter >= before else counter)
        if record.get("oom_killed") and record.get("finished_at") != previous.get("finished_at"):
            kills = max(kills, 1)
        return kills

    def _container_cpu(self, record: Mapping[str, Any]) -> None:
        name, value = record["name"], record.get("cpu_percent_of_limit")
        if value is None:
            if record["running"]:
                self._add("resources.container.cpu", name, "info", "%s: CPU use could not be sampled" % name, {})
            return
        warning, critical = self.s["container_cpu_warning"], self.s["container_cpu_critical"]
        severity, held = self._threshold("resources.container.cpu", name, value, warning, critical)
        summary = "%s: CPU %s%% (docker stats), %s%% of its %s CPUs" % (
            name,
            _num(record["cpu_percent"]),
            _num(value),
            _num(round(record["cpu_limit"], 2)),
        ) + self._threshold_words(severity, warning, critical, held)
        throttled, limit = record.get("throttled_percent"), self.s["throttle_warning"]
        if throttled is not None and limit is not None and throttled > limit:
            summary += "; throttled in %s%% of CFS periods (above %s%%)" % (_num(throttled), _num(limit))
            if severity == "ok":
                severity = "warning"
        details = {k: record.get(k) for k in ("cpu_percent", "cpu_limit", "cpu_percent_of_limit", "throttled_percent")}
        details.update(warning=warning, critical=critical, throttled_periods=record.get("throttled_periods"))
        self._add("resources.container.cpu", name, severity, summary, details)

    def _container_memory(self, record: Mapping[str, Any]) -> None:
        name, value = record["name"], record.get("memory_percent")
        if value is None:
            return
        warning, critical = self.s["container_memory_warning"], self.s["container_memory_critical"]
        severity, held = self._threshold("resources.container.memory", name, value, warning, critical)
        against = "its limit" if record.get("memory_limited") else "the host's memory (no limit set)"
        summary = "%s: memory %s of %s, %s%% of %s" % (
            name,
            _say_bytes(record["memory_used_bytes"]),
            _say_bytes(record["memory_limit_bytes"]),
            _num(value),
            against,
        ) + self._threshold_words(severity, warning, critical, held)
        details = {
            k: record.get(k) for k in ("memory_used_bytes", "memory_limit_bytes", "memory_percent", "memory_limited")
        }
        details.update(warning=warning, critical=critical)
        self._add("resources.container.memory", name, severity, summary, details)

    def _container_oom(self, record: Mapping[str, Any], first_run: bool) -> None:
        name, kills = record["name"], record.get("oom_kills_since_last_run")
        details = {
            "oom_killed": record["oom_killed"],
            "finished_at": record.get("finished_at"),
            "oom_kills_since_last_run": kills,
            "oom_events": record.get("oom_events"),
            "oom_kill_counter": record.get("oom_kill_counter"),
            "status": record.get("status"),
        }
        if kills:
            self._add(
                "resources.container.oom",
                name,
                "critical",
                "%s: OOM-killed %d time(s) since the previous run (memory limit %s)"
                % (
                    name,
                    kills,
                    _say_bytes(record.get("memory_limit_bytes")) if record.get("memory_limited") else "none",
                ),
                details,
            )
        elif first_run and record["oom_killed"]:
            severity = "warning" if record["running"] else "critical"
            self._add(
                "resources.container.oom",
                name,
                severity,
                "%s: its last exit (%s) was an OOM kill; it is %s (no earlier run to compare with)"
                % (name, record.get("finished_at"), record.get("status")),
                details,
            )
        else:
            self._add("resources.container.oom", name, "ok", "%s: no OOM kill since the previous run" % name, details)

    def _container_restarts(self, record: Mapping[str, Any], first_run: bool) -> None:
        name, restarts = record["name"], record.get("restarts_since_last_run")
        details = {
            "restart_count": record["restart_count"],
            "restarts_since_last_run": restarts,
            "status": record.get("status"),
        }
        if restarts:
            self._add(
                "resources.container.restarts",
                name,
                "warning",
                "%s: restarted %d time(s) since the previous run (%d in all)"
                % (name, restarts, record["restart_count"]),
                details,
            )
        elif first_run:
            self._add(
                "resources.container.restarts",
                name,
                "info" if record["restart_count"] else "ok",
                "%s: %d restart(s) since it was created (no earlier run of this container to compare with)"
                % (name, record["restart_count"]),
                details,
            )
        else:
            self._add(
                "resources.container.restarts", name, "ok", "%s: no restart since the previous run" % name, details
            )


# --- state -----------------------------------------------------------------------------------


def next_state(
    previous: Optional[Mapping[str, Any]],
    judge_: Judge,
    mounts: Sequence[Mapping[str, Any]],
    memory: Optional[Mapping[str, Any]],
    containers: Optional[Sequence[Mapping[str, Any]]],
    now: float,
    history: int,
) -> dict[str, Any]:
    """The state to save: bounded history, raised severities, per-container counters.

    Containers are only replaced when the engine answered: an unreachable engine must not make
    the next run believe every container is new.
    """
    entry: dict[str, Any] = {"t": now, "used_percent": {}, "inodes_used_percent": {}}
    for mount in mounts:
        for key in ("used_percent", "inodes_used_percent"):
            if mount.get(key) is not None:
                entry[key][mount["mount_point"]] = mount[key]
    if memory is not None:
        entry["memory_percent"] = memory["used_percent"]
    kept = list(judge_.history) + [entry]
    state: dict[str, Any] = {"history": kept[-history:], "raised": dict(judge_.raised), "last_run": now}
    old_containers = (previous or {}).get("containers")
    if containers is None:
        state["containers"] = {
            str(name): {k: v for k, v in entry.items() if v is None or isinstance(v, str) or _finite(v)}
            for name, entry in (old_containers.items() if isinstance(old_containers, Mapping) else ())
            if isinstance(entry, Mapping)
        }
    else:
        state["containers"] = {
            c["name"]: {
                "id": c["full_id"],
                "restart_count": c["restart_count"],
                "oom_killed": c["oom_killed"],
                "finished_at": c.get("finished_at"),
                "started_at": c.get("started_at"),
                "oom_kill_counter": c.get("oom_kill_counter"),
                "throttled_periods": c.get("throttled_periods"),
            }
            for c in containers
        }
    return state


def previous_run_time(previous: Optional[Mapping[str, Any]]) -> Optional[float]:
    """When the previous run saved its state (for the engine's oom events since then)."""
    if not previous:
        return None
    for key in ("last_run", "_saved_at"):
        value = previous.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None
