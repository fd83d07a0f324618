# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""resource_check's pure half (_resources) on plain data: options, /proc parsers, judges with
hysteresis, disk forecasts, container deltas and the state kept between runs."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from ansible_collections.stronghold.ops.plugins.module_utils._resources import (
    Judge,
    ResourceError,
    check_options,
    container_cpu,
    container_memory,
    container_record,
    cpu_limit,
    cpu_percent,
    disk_usage,
    forecast,
    judge,
    memory_usage,
    next_state,
    parse_cpu_times,
    parse_loadavg,
    parse_meminfo,
    parse_mounts,
    parse_pressure,
    previous_run_time,
    select_mounts,
)
from ansible_collections.stronghold.ops.plugins.module_utils._resources_probe import _timestamp, statvfs_all

NOW = 1_800_000_000.0
DAY = 86400.0


def params(**own):
    base = {
        "mounts": [],
        "exclude_mount_points": None,
        "exclude_fs_types": None,
        "mount_timeout": 5,
        "disk_warning": 85,
        "disk_critical": 95,
        "inode_warning": 85,
        "inode_critical": 95,
        "memory_warning": 85,
        "memory_critical": 95,
        "cpu_warning": 70,
        "cpu_critical": None,
        "load_warning": 2.0,
        "load_critical": None,
        "pressure_warning": 25,
        "pressure_critical": None,
        "containers": True,
        "docker_host": None,
        "docker_timeout": 30,
        "project": None,
        "names": [],
        "container_cpu_warning": 70,
        "container_cpu_critical": None,
        "container_memory_warning": 85,
        "container_memory_critical": 95,
        "throttle_warning": 25,
        "interval": 1,
        "state_path": None,
        "history": 30,
        "forecast_days": 14,
        "hysteresis": 5,
        "fail_on": "never",
    }
    base.update(own)
    return base


def settings(**own):
    return check_options(params(**own))


# --- options ----------------------------------------------------------------------------------


def test_defaults_are_the_runbook_thresholds():
    s = settings()
    assert (s["disk_warning"], s["disk_critical"], s["memory_warning"], s["memory_critical"]) == (85, 95, 85, 95)
    assert s["cpu_warning"] == 70 and s["cpu_critical"] is None
    assert s["exclude_mount_points"].search("/proc") and s["exclude_fs_types"].search("overlay")


def test_percent_accepts_a_percent_sign():
    assert settings(disk_warning="80%")["disk_warning"] == 80


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("disk_warning", 120, "disk_warning: a percentage must lie between 0 and 100"),
        ("disk_warning", -1, "disk_warning: a percentage must lie between 0 and 100"),
        ("memory_critical", "nan", "memory_critical: percentage must be a finite number"),
        ("inode_warning", float("inf"), "inode_warning: percentage must be a finite number"),
        ("cpu_warning", "lots", "cpu_warning: percentage must be a number"),
        ("container_memory_warning", True, "container_memory_warning: a percentage must be a number, got a boolean"),
        ("load_warning", float("nan"), "load_warning must be a finite number"),
        ("load_warning", -0.5, "load_warning must be at least 0"),
        ("hysteresis", 101, "hysteresis must be at most 100"),
        ("forecast_days", -1, "forecast_days must be at least 0"),
        ("history", 0, "history must be a whole number of runs from 1 to 1000"),
        ("history", 100000, "history must be a whole number of runs from 1 to 1000"),
        ("interval", 0, "interval must be greater than 0"),
        ("interval", "2h", "interval must be at most 60"),
        ("interval", "soon", "interval: cannot read 'soon' as a duration"),
        ("mount_timeout", -1, "mount_timeout must be greater than 0"),
        ("docker_timeout", "nan", "docker_timeout must be a finite number"),
        ("mounts", ["var/lib"], "mounts: 'var/lib' is not an absolute path"),
        ("mounts", [""], "mounts: '' is not an absolute path"),
        ("exclude_mount_points", "([", "exclude_mount_points is not a valid regular expression"),
        ("names", ["  "], "names: a container name cannot be empty"),
        ("project", "", "project cannot be an empty string"),
    ],
)
def test_bad_options_name_the_option(option, value, words):
    with pytest.raises(ResourceError) as info:
        settings(**{option: value})
    assert words in str(info.value)


@pytest.mark.parametrize(
    "low, high",
    [
        ("disk_warning", "disk_critical"),
        ("memory_warning", "memory_critical"),
        ("container_memory_warning", "container_memory_critical"),
        ("load_warning", "load_critical"),
    ],
)
def test_warning_above_critical_is_refused(low, high):
    with pytest.raises(ResourceError, match="%s \\(96\\) is above %s \\(90\\)" % (low, high)):
        settings(**{low: 96, high: 90})


def test_empty_exclusions_exclude_nothing():
    s = settings(exclude_mount_points="", exclude_fs_types="")
    mounts = [{"device": "proc", "mount_point": "/proc", "fs_type": "proc"}]
    assert select_mounts(mounts, s) == mounts


# --- /proc parsers ----------------------------------------------------------------------------

MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
sysfs /sys sysfs rw 0 0
tmpfs /run tmpfs rw 0 0
tmpfs /run/credentials/systemd-journald.service tmpfs ro 0 0
/dev/vdb /var/lib/docker ext4 rw 0 0
overlay /var/lib/docker/overlay2/abc/merged overlay rw 0 0
nsfs /run/docker/netns/default nsfs rw 0 0
/dev/vdc /srv/my\\040data xfs rw 0 0
/dev/vda / ext4 rw,relatime 0 0
"""


def test_mounts_exclude_pseudo_filesystems_like_node_exporter():
    chosen = [m["mount_point"] for m in select_mounts(parse_mounts(MOUNTS), settings())]
    # /var/lib/docker itself is a disk; what is under it is container storage.
    assert chosen == ["/", "/run", "/var/lib/docker", "/srv/my data"]


def test_mounts_option_lists_exactly_those_paths():
    chosen = select_mounts(parse_mounts(MOUNTS), settings(mounts=["/proc", "/nowhere"]))
    assert chosen == [
        {"device": "proc", "mount_point": "/proc", "fs_type": "proc"},
        {"device": "", "mount_point": "/nowhere", "fs_type": ""},
    ]


MEMINFO = """\
MemTotal:       16000000 kB
MemFree:          500000 kB
MemAvailable:    2000000 kB
Buffers:          100000 kB
Cached:          9000000 kB
SwapTotal:       1000000 kB
SwapFree:         250000 kB
HugePages_Total:       0
"""


def test_memory_from_memavailable_not_free_plus_cache():
    memory = memory_usage(parse_meminfo(MEMINFO))
    assert memory["used_percent"] == 87.5
    assert memory["source"] == "MemAvailable"
    assert memory["swap_used_bytes"] == 750000 * 1024


def test_memory_on_a_kernel_without_memavailable_says_so():
    text = "\n".join(line for line in MEMINFO.splitlines() if not line.startswith("MemAvailable"))
    memory = memory_usage(parse_meminfo(text))
    assert memory["source"] == "MemFree+Buffers+Cached"
    assert memory_usage(parse_meminfo("garbage")) is None


def test_cpu_percent_counts_iowait_as_idle():
    before = parse_cpu_times("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n")
    after = parse_cpu_times("cpu  170 0 130 750 150 0 0 0 50 0\n")
    # busy +100 (user 70, system 30), idle +50, iowait +50: 50 %; guest (50) is already in user.
    assert cpu_percent(before, after) == 50.0
    assert cpu_percent(after, after) is None
    assert cpu_percent(None, after) is None


def test_loadavg_and_pressure():
    assert parse_loadavg("0.52 1.10 2.00 3/456 789\n") == (0.52, 1.10, 2.00)
    assert parse_loadavg("") is None
    psi = parse_pressure(
        "some avg10=1.50 avg60=30.25 avg300=2.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )
    assert psi["some"]["avg60"] == 30.25 and psi["full"]["total"] == 0


def test_disk_usage_is_df_use_percent_with_the_root_reserve_as_used():
    # 1000 blocks, 100 free of which 50 are reserved for root: df says 900/(900+50) = 95 %.
    usage = disk_usage(4096, 1000, 100, 50, 1000, 200, 200)
    assert usage["used_percent"] == 94.74
    assert usage["used_bytes"] == 900 * 4096 and usage["avail_bytes"] == 50 * 4096
    assert usage["inodes_used_percent"] == 80.0
    # A filesystem without an inode table (btrfs, vfat) has no inode percentage.
    assert disk_usage(4096, 1000, 100, 100, 0, 0, 0)["inodes_used_percent"] is None


# --- containers ------------------------------------------------------------------------------


def stats(total, system, usage=100 << 20, limit=200 << 20, inner=None, periods=0, throttled=0, online=2):
    return {
        "cpu_stats": {
            "cpu_usage": {"total_usage": total},
            "system_cpu_usage": system,
            "online_cpus": online,
            "throttling_data": {"periods": periods, "throttled_periods": throttled},
        },
        "memory_stats": {"usage": usage, "limit": limit, "stats": inner if inner is not None else {}},
    }


def test_container_cpu_is_docker_stats_formula_over_our_own_two_samples():
    first = stats(1_000_000_000, 100_000_000_000, periods=100, throttled=10)
    second = stats(1_500_000_000, 102_000_000_000, periods=200, throttled=60)
    cpu = container_cpu(first, second)
    # 0.5 s of CPU over 2 s of system time (both cores) x 2 cores x 100 = 50 %.
    assert cpu["cpu_percent"] == 50.0
    assert cpu["throttled_percent"] == 50.0


def test_container_memory_subtracts_inactive_file_on_v1_and_v2():
    v1 = container_memory(
        stats(0, 0, usage=100 << 20, inner={"total_inactive_file": 30 << 20, "total_cache": 40 << 20})
    )
    assert v1["used_bytes"] == 70 << 20 and v1["cgroup"] == "v1" and v1["used_percent"] == 35.0
    v2 = container_memory(
        stats(0, 0, usage=100 << 20, inner={"inactive_file": 20 << 20, "file": 25 << 20, "oom_kill": 2})
    )
    assert v2["used_bytes"] == 80 << 20 and v2["cgroup"] == "v2" and v2["oom_kill_counter"] == 2


def test_cpu_limit_from_cpus_then_quota_then_cores():
    assert cpu_limit({"HostConfig": {"NanoCpus": 500_000_000}}, 2) == 0.5
    assert cpu_limit({"HostConfig": {"CpuQuota": 150000, "CpuPeriod": 100000}}, 2) == 1.5
    assert cpu_limit({"HostConfig": {}}, 2) == 2.0


def inspect(name="app-1", cid="a" * 64, restarts=0, oom=False, finished="0001-01-01T00:00:00Z", running=True, memory=0):
    return {
        "Id": cid,
        "Name": "/" + name,
        "RestartCount": restarts,
        "State": {
            "Status": "running" if running else "exited",
            "Running": running,
            "OOMKilled": oom,
            "FinishedAt": finished,
        },
        "HostConfig": {"Memory": memory},
        "Config": {"Labels": {"com.docker.compose.project": "p", "com.docker.compose.service": "app"}},
    }


def record(oom_events=None, **kw):
    return container_record(inspect(**kw), stats(0, 0), stats(10, 1000, usage=50, limit=100), oom_events)


def by_check(findings, check, target=None):
    return [f for f in findings if f["check"] == check and (target is None or f["target"] == target)]


def test_first_run_reports_an_oom_killed_exit_without_a_delta():
    j = Judge(settings(), None, NOW)
    j.container(record(oom=True, running=False, finished="2026-12-05T10:00:00Z"))
    oom = by_check(j.findings, "resources.container.oom")[0]
    assert oom["severity"] == "critical" and "was an OOM kill" in oom["summary"]
    assert by_check(j.findings, "resources.container.restarts")[0]["severity"] == "ok"


def test_oom_and_restarts_since_the_previous_run():
    previous = {
        "containers": {"app-1": {"id": "a" * 64, "restart_count": 1, "finished_at": "T1", "oom_kill_counter": None}}
    }
    j = Judge(settings(), previous, NOW)
    j.container(record(restarts=3, oom=True, finished="T2", oom_events=2))
    oom = by_check(j.findings, "resources.container.oom")[0]
    assert oom["severity"] == "critical" and "OOM-killed 2 time(s) since the previous run" in oom["summary"]
    restarts = by_check(j.findings, "resources.container.restarts")[0]
    assert restarts["severity"] == "warning" and "restarted 2 time(s)" in restarts["summary"]


def test_an_old_oom_kill_is_not_counted_again():
    previous = {"containers": {"app-1": {"id": "a" * 64, "restart_count": 3, "finished_at": "T2"}}}
    j = Judge(settings(), previous, NOW)
    j.container(record(restarts=3, oom=True, finished="T2", oom_events=0))
    assert by_check(j.findings, "resources.container.oom")[0]["severity"] == "ok"
    assert by_check(j.findings, "resources.container.restarts")[0]["severity"] == "ok"


def test_cgroup_v2_oom_counter_delta_and_reset():
    previous = {"containers": {"app-1": {"id": "a" * 64, "restart_count": 0, "oom_kill_counter": 5}}}
    rec = container_record(inspect(), stats(0, 0), stats(10, 1000, inner={"inactive_file": 0, "oom_kill": 7}), None)
    assert Judge._oom_delta(rec, previous["containers"]["app-1"]) == 2
    rec = container_record(inspect(), stats(0, 0), stats(10, 1000, inner={"inactive_file": 0, "oom_kill": 1}), None)
    assert Judge._oom_delta(rec, previous["containers"]["app-1"]) == 1


def test_a_recreated_container_is_a_first_run():
    previous = {"containers": {"app-1": {"id": "b" * 64, "restart_count": 0}}}
    j = Judge(settings(), previous, NOW)
    j.container(record(restarts=2))
    assert by_check(j.findings, "resources.container.restarts")[0]["severity"] == "info"


def test_container_memory_against_its_limit():
    j = Judge(settings(), None, NOW)
    rec = container_record(inspect(memory=100), stats(0, 0), stats(10, 1000, usage=96, limit=100), None)
    j.container(rec)
    memory = by_check(j.findings, "resources.container.memory")[0]
    assert memory["severity"] == "critical" and "96% of its limit" in memory["summary"]


def test_throttling_makes_the_cpu_finding_a_warning():
    j = Judge(settings(), None, NOW)
    rec = container_record(
        inspect(), stats(0, 0, periods=0, throttled=0), stats(10, 1000, periods=10, throttled=5), None
    )
    j.container(rec)
    cpu = by_check(j.findings, "resources.container.cpu")[0]
    assert cpu["severity"] == "warning" and "throttled in 50%" in cpu["summary"]


def test_unreachable_engine_and_missing_names_are_critical():
    j = Judge(settings(), None, NOW)
    j.engine_unreachable("unix:///nowhere.sock", "no Docker engine answers")
    j.missing_containers(["ghost"])
    assert [f["severity"] for f in j.findings] == ["critical", "critical"]


# --- hysteresis and forecast -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value, raised, expected",
    [
        (86, None, ("warning", None)),
        (84, None, ("ok", None)),
        (84, "warning", ("warning", 80)),
        (80.5, "warning", ("warning", 80)),
        (79.9, "warning", ("ok", None)),
        (93, "critical", ("critical", 90)),
        (89, "critical", ("warning", None)),
        (82, "critical", ("warning", 80)),
        (79, "critical", ("ok", None)),
        (96, "warning", ("critical", None)),
    ],
)
def test_hysteresis(value, raised, expected):
    assert judge(value, 85, 95, raised, 5) == expected


def test_no_hysteresis_with_zero_margin():
    assert judge(84, 85, 95, "warning", 0) == ("ok", None)


def mount(point="/", used=80.0, inodes=10.0):
    return {
        "mount_point": point,
        "device": "/dev/vda",
        "fs_type": "ext4",
        "used_percent": used,
        "inodes_used_percent": inodes,
        "size_bytes": 100 << 30,
        "used_bytes": int(used) << 30,
        "avail_bytes": (100 - int(used)) << 30,
        "inodes_total": 1000,
        "inodes_used": int(inodes * 10),
    }


def test_a_value_at_the_threshold_does_not_flap_across_runs():
    severities = []
    state = None
    for value in (86, 84.5, 85.2, 83, 79):
        j = Judge(settings(), state, NOW)
        j.disk(mount(used=value))
        severities.append(by_check(j.findings, "resources.disk")[0]["severity"])
        state = next_state(state, j, [mount(used=value)], None, [], NOW, 30)
    assert severities == ["warning", "warning", "warning", "warning", "ok"]
    assert state["raised"] == {}


def history(values, step=DAY):
    return [{"t": NOW - step * (len(values) - i), "used_percent": {"/": v}} for i, v in enumerate(values)]


def test_forecast_fires_before_the_threshold():
    # +2 points a day: from 82 today the disk is full in 9 days.
    j = Judge(settings(), {"history": history([72, 74, 76, 78, 80])}, NOW)
    j.disk(mount(used=82))
    disk = by_check(j.findings, "resources.disk")[0]
    assert disk["severity"] == "warning"
    assert "full in 9 days" in disk["summary"]
    assert disk["details"]["forecast"]["percent_per_day"] == 2.0


def test_forecast_outside_the_window_or_too_short_stays_ok():
    j = Judge(settings(forecast_days=5), {"history": history([72, 74, 76, 78, 80])}, NOW)
    j.disk(mount(used=82))
    assert by_check(j.findings, "resources.disk")[0]["severity"] == "ok"
    # Two runs a minute apart are not a trend.
    j = Judge(settings(), {"history": history([10, 50], step=60)}, NOW)
    j.disk(mount(used=82))
    assert "forecast" not in by_check(j.findings, "resources.disk")[0]["details"]
    # A shrinking disk is never "full".
    assert forecast([(NOW - 2 * DAY, 50), (NOW - DAY, 45), (NOW, 40)], NOW, 40)["days_to_full"] is None


def test_forecast_ignores_broken_history_entries():
    broken = history([72, 74, 76, 78, 80]) + [{"t": "yesterday"}, {"t": NOW, "used_percent": {"/": "x"}}, 5]
    j = Judge(settings(), {"history": broken}, NOW)
    j.disk(mount(used=82))
    assert by_check(j.findings, "resources.disk")[0]["details"]["forecast"]["points"] == 6


def test_state_keeps_a_bounded_history_and_old_containers_when_the_engine_is_down():
    previous = {"history": history(list(range(40))), "containers": {"app-1": {"id": "x", "restart_count": 4}}}
    j = Judge(settings(), previous, NOW)
    state = next_state(previous, j, [mount()], memory_usage(parse_meminfo(MEMINFO)), None, NOW, 30)
    assert len(state["history"]) == 30 and state["history"][-1]["t"] == NOW
    assert state["history"][-1]["memory_percent"] == 87.5
    assert state["containers"] == previous["containers"]
    assert previous_run_time(state) == NOW
    assert previous_run_time({"_saved_at": 5.0}) == 5.0 and previous_run_time(None) is None


def test_memory_cpu_load_and_pressure_findings():
    j = Judge(settings(), None, NOW)
    j.memory(memory_usage(parse_meminfo(MEMINFO)))
    j.cpu(71.0, 1.0)
    j.load((9.0, 5.0, 1.0), 2)
    j.pressure({"io": parse_pressure("some avg10=0 avg60=30.0 avg300=0 total=1\n")})
    assert [(f["check"], f["severity"]) for f in j.findings] == [
        ("resources.memory", "warning"),
        ("resources.cpu", "warning"),
        ("resources.load", "warning"),
        ("resources.pressure", "warning"),
    ]
    assert "2.5 per core" in j.findings[2]["summary"]


# --- statvfs with a timeout (real threads) ---------------------------------------------------


def test_a_hung_statvfs_does_not_hang_the_check():
    release = threading.Event()

    def statvfs(path):
        if path == "/hung":
            release.wait(30)
        return os.statvfs("/")

    try:
        start = time.monotonic()
        measured = statvfs_all(
            [{"mount_point": "/", "device": "", "fs_type": ""}, {"mount_point": "/hung", "device": "", "fs_type": ""}],
            0.3,
            statvfs,
        )
        assert time.monotonic() - start < 5
    finally:
        release.set()
    assert measured[0].get("used_percent") is not None
    assert "did not answer within 0.3s" in measured[1]["error"]


def test_a_missing_path_is_an_error_not_a_crash():
    measured = statvfs_all([{"mount_point": "/no/such/path/here", "device": "", "fs_type": ""}], 5)
    assert measured[0]["error"] == "does not exist" and measured[0]["error_severity"] == "critical"


def test_a_manual_start_resets_restartcount_but_counts_as_a_restart():
    previous = {"containers": {"app-1": {"id": "a" * 64, "restart_count": 1, "started_at": "T1"}}}
    rec = container_record(dict(inspect(restarts=1), State={"Status": "running", "StartedAt": "T2"}), None, None, None)
    assert Judge._restart_delta(rec, previous["containers"]["app-1"]) == 1
    rec = container_record(dict(inspect(restarts=1), State={"Status": "running", "StartedAt": "T1"}), None, None, None)
    assert Judge._restart_delta(rec, previous["containers"]["app-1"]) == 0


def test_event_timestamps_keep_nanoseconds():
    assert _timestamp(1796484264.5) == "1796484264.500000000"
    assert _timestamp(1796484264.0) == "1796484264.000000000"


def test_a_damaged_history_never_reaches_the_next_state():
    previous = {
        "history": [
            {"t": float("nan"), "used_percent": {"/": 50}},
            {"t": NOW - DAY, "used_percent": {"/": float("nan"), "/srv": 40}, "memory_percent": float("inf")},
            {"t": True},
            "junk",
        ],
        "raised": {"resources.disk|/": 5},
        "containers": {"app-1": {"id": "x", "restart_count": float("nan"), "started_at": "T"}, "bad": 3},
    }
    j = Judge(settings(), previous, NOW)
    j.disk(mount(used=50))
    state = next_state(previous, j, [mount(used=50)], None, [], NOW, 30)
    assert state["history"][0] == {"t": NOW - DAY, "used_percent": {"/srv": 40.0}}
    assert len(state["history"]) == 2
    # The engine did not answer (containers None): the old counters are kept, cleaned.
    state = next_state(previous, j, [mount(used=50)], None, None, NOW, 30)
    assert state["containers"] == {"app-1": {"id": "x", "started_at": "T"}}
    json.dumps(state, allow_nan=False)
