#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: resource_check
short_description: Disk, inodes, memory, CPU, load, pressure and per-container use, as findings with trends
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - The runbook's C(df -h), C(free -h) and C(docker stats) judged against its thresholds, for the
    host the task runs on and the containers of its Docker engine.
  - B(Disks and inodes) per mount, as C(df) computes use, C(used / (used + available)) (the root
    reserve counts as used). Pseudo filesystems and the mount points under C(/dev), C(/proc),
    C(/sys), C(/run/credentials) and C(/var/lib/docker) are left out by default, as
    node_exporter does. C(statvfs) runs in a thread per mount with O(mount_timeout), so a hung
    network filesystem is a finding and never hangs the task.
  - B(Memory) from C(MemAvailable) (C(1 - MemAvailable / MemTotal)); Ansible's
    C(ansible_memory_mb.nocache) counts shared memory as free.
  - B(CPU) busy percentage sampled from C(/proc/stat) over O(interval), the 5-minute B(load)
    average per core, and B(pressure stall information) when the kernel has it (C(/proc/pressure/cpu),
    C(memory) and C(io), the share of the last minute in which some tasks stalled).
  - B(Containers) through the Docker SDK, every container sampled at once with one-shot stats,
    twice, O(interval) apart (never 2 seconds per container one after another), measuring CPU as
    C(docker stats) shows it and as a share of the CPUs the container may use (C(--cpus) or
    every core), CFS throttling, memory used (usage minus inactive file pages) against its limit
    (the host's memory when it has none), and, since the previous run (O(state_path)), restarts
    and OOM kills (the engine's C(oom) events, C(State.OOMKilled) of a newer exit, and the cgroup
    v2 C(oom_kill) counter when the engine passes it on). An engine that does not answer is a
    critical finding; the host's findings are still reported.
  - B(Trends) with O(state_path), one small file per host. The values of the last O(history)
    runs are kept; a disk or inode table that a linear fit over them says will be full within
    O(forecast_days) is a warning before the threshold is crossed. A value that raised a warning
    or a critical stays so until it drops O(hysteresis) points below the threshold, so a value
    at a threshold does not flap between reports.
options:
  mounts:
    description:
      - Mount points (or any paths, and then the filesystem holding each is measured) to check,
        instead of every mount not excluded. A path that does not exist is a critical finding.
    type: list
    elements: str
    default: []
  exclude_mount_points:
    description:
      - Regular expression (searched) of mount points left out when O(mounts) is empty; an empty
        string leaves none out. The default is node_exporter's.
    type: str
  exclude_fs_types:
    description:
      - Regular expression (searched) of filesystem types left out when O(mounts) is empty; an
        empty string leaves none out. The default is node_exporter's list of pseudo filesystems
        (C(proc), C(sysfs), C(overlay), C(squashfs), C(nsfs), ...).
    type: str
  mount_timeout:
    description: How long C(statvfs) of the mounts may take, together; a mount that has not answered by then is a warning.
    type: raw
    default: 5
  disk_warning:
    description:
      - Disk use in percent above which a mount is a warning (runbook, 85). Percentages take
        V(85), V(85.5) or V("85%") and lie from 0 to 100; a warning threshold may not exceed its
        critical one. This holds for every percentage option.
    type: raw
    default: 85
  disk_critical:
    description: Disk use in percent above which a mount is critical (runbook, 95).
    type: raw
    default: 95
  inode_warning:
    description: Inode use in percent above which a mount is a warning.
    type: raw
    default: 85
  inode_critical:
    description: Inode use in percent above which a mount is critical.
    type: raw
    default: 95
  memory_warning:
    description: Memory use in percent (from C(MemAvailable)) above which the host is a warning (runbook, 85).
    type: raw
    default: 85
  memory_critical:
    description: Memory use in percent above which the host is critical (runbook, 95).
    type: raw
    default: 95
  cpu_warning:
    description: Host CPU busy percentage over O(interval) above which it is a warning (runbook target, under 70).
    type: raw
    default: 70
  cpu_critical:
    description: Host CPU busy percentage above which it is critical; none by default.
    type: raw
  load_warning:
    description:
      - 5-minute load average per core above which the host is a warning (node_exporter's
        NodeSystemSaturation uses 2); from 0 to 1000.
    type: float
    default: 2
  load_critical:
    description: 5-minute load average per core above which the host is critical; none by default.
    type: float
  pressure_warning:
    description: Pressure stall percentage (C(some avg60)) of cpu, memory or io above which it is a warning.
    type: raw
    default: 25
  pressure_critical:
    description: Pressure stall percentage above which it is critical; none by default.
    type: raw
  containers:
    description: Check the containers of the Docker engine (O(docker_host)).
    type: bool
    default: true
  docker_host:
    description:
      - The Docker engine (C(unix:///path/docker.sock), C(tcp://host:2376)); C(DOCKER_HOST) of the
        environment, or the default socket, when omitted. TLS settings come from C(DOCKER_TLS_VERIFY)
        and C(DOCKER_CERT_PATH) as with the docker CLI.
    type: str
  docker_timeout:
    description: Timeout of each call to the Docker engine.
    type: raw
    default: 30
  project:
    description: Check only the containers of this Compose project (label C(com.docker.compose.project)).
    type: str
  names:
    description: Check only these containers (names); a name that does not exist is a critical finding.
    type: list
    elements: str
    default: []
  container_cpu_warning:
    description:
      - CPU use of a container in percent of the CPUs it may use (its C(--cpus) or every core)
        above which it is a warning (runbook target, under 70).
    type: raw
    default: 70
  container_cpu_critical:
    description: CPU use of a container in percent of the CPUs it may use above which it is critical; none by default.
    type: raw
  container_memory_warning:
    description: Memory of a container in percent of its limit (the host's memory when it has none) above which it is a warning.
    type: raw
    default: 85
  container_memory_critical:
    description: Memory of a container in percent of its limit above which it is critical.
    type: raw
    default: 95
  throttle_warning:
    description:
      - Share of CFS periods in which a container was throttled during O(interval), in percent,
        above which its CPU finding is at least a warning.
    type: raw
    default: 25
  interval:
    description:
      - How long CPU use is sampled, for the host and every container at once; more than 0 and
        at most 60 seconds. The Docker engine publishes stats once a second, so with containers
        the interval is at least about a second.
    type: raw
    default: 1
  state_path:
    description:
      - A file (one per host) that keeps the values of the last O(history) runs, the severities
        they raised and each container's counters, for forecasts, hysteresis and the restarts and
        OOM kills since the previous run. Written atomically with mode 0600; never in check mode.
        Without it every run is a first run.
    type: path
  history:
    description: How many runs O(state_path) keeps (1 to 1000); a forecast needs at least 3 spanning an hour.
    type: int
    default: 30
  forecast_days:
    description:
      - A mount that a linear fit over the kept runs says will be full within this many days is
        a warning even below O(disk_warning); V(0) turns forecasts off. From 0 to 3650.
    type: float
    default: 14
  hysteresis:
    description:
      - Percentage points a value must drop below a threshold it crossed before the finding
        clears (a warning at 86 % stays a warning until below 80 % with V(5)); for the load, that
        many percent of the threshold. V(0) turns it off. From 0 to 100.
    type: float
    default: 5
extends_documentation_fragment:
  - stronghold.ops.attributes
  - stronghold.ops.durations
  - stronghold.ops.fail_on
  - stronghold.ops.findings
attributes:
  check_mode:
    details: Everything is measured in check mode too; O(state_path) is read but not written.
requirements:
  - The Docker SDK for Python (C(docker)) on the host the task runs on, for the container checks.
notes:
  - The module never changes anything but O(state_path); C(changed) is always false.
  - The OOM kills since the previous run are a floor when the engine was restarted or emitted more
    events than its buffer keeps in between.
seealso:
  - name: docker stats (the formulas followed here)
    description: docker/cli's stats_helpers.go computes CPU % and memory the same way.
    link: https://docs.docker.com/reference/cli/docker/container/stats/
"""

EXAMPLES = r"""
- name: Check the host and the application's containers against the runbook's thresholds
  stronghold.ops.resource_check:
    project: financial-stronghold
    state_path: /var/lib/stronghold-ops/resources/{{ inventory_hostname }}.json
    fail_on: never
  register: resources

- name: Only the data disk, warn a month ahead of it filling up, no containers
  stronghold.ops.resource_check:
    mounts: [/var/lib/postgresql]
    containers: false
    forecast_days: 30
    state_path: /var/lib/stronghold-ops/resources/data-disk.json
"""

RETURN = r"""
disks:
  description: Every mount measured.
  returned: always
  type: list
  elements: dict
  contains:
    mount_point:
      description: The mount point (or the path given in O(mounts)).
      type: str
      sample: /
    device:
      description: The device or source of the mount.
      type: str
      sample: /dev/sda1
    fs_type:
      description: The filesystem type.
      type: str
      sample: ext4
    size_bytes:
      description: The filesystem's size.
      type: int
      sample: 52521566208
    used_bytes:
      description: Bytes used (size minus free).
      type: int
      sample: 21474836480
    avail_bytes:
      description: Bytes an unprivileged user may still write.
      type: int
      sample: 28400000000
    used_percent:
      description: C(used / (used + avail)) in percent, as C(df) prints it.
      type: float
      sample: 43.06
    inodes_total:
      description: Inodes of the filesystem (0 when it has no inode table).
      type: int
      sample: 3276800
    inodes_used:
      description: Inodes in use.
      type: int
      sample: 120034
    inodes_used_percent:
      description: Inode use in percent; null when the filesystem has no inode table.
      type: float
      sample: 3.66
    error:
      description: Why the mount could not be measured (absent when it was).
      type: str
      sample: statvfs did not answer within 5s (a hung network filesystem?)
  sample:
    - {mount_point: /, fs_type: ext4, used_percent: 43.06, inodes_used_percent: 3.66}
host:
  description: The host's memory, CPU, load and pressure.
  returned: always
  type: dict
  contains:
    memory:
      description: total_bytes, available_bytes, used_percent, source (C(MemAvailable)), swap_total_bytes, swap_used_bytes.
      type: dict
      sample: {total_bytes: 25324961792, available_bytes: 20000000000, used_percent: 21.03, source: MemAvailable}
    cpu_percent:
      description: Share of all cores busy over RV(host.interval).
      type: float
      sample: 12.5
    interval:
      description: Seconds the CPU was sampled over.
      type: float
      sample: 1.001
    load:
      description: The 1, 5 and 15-minute load averages.
      type: list
      elements: float
      sample: [0.5, 0.7, 0.9]
    cores:
      description: Online CPUs.
      type: int
      sample: 2
    pressure:
      description: C(/proc/pressure/*) per resource, C(some) and C(full) with avg10, avg60, avg300 and total; empty without PSI.
      type: dict
      sample: {memory: {some: {avg10: 0.0, avg60: 0.12, avg300: 0.05, total: 123456}}}
containers:
  description: Every container checked; null when O(containers) is false or the engine did not answer.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Container name.
      type: str
      sample: financial-stronghold-web-1
    id:
      description: Short container id.
      type: str
      sample: 90dfd46921ba
    project:
      description: Its Compose project, if any.
      type: str
      sample: financial-stronghold
    service:
      description: Its Compose service, if any.
      type: str
      sample: web
    status:
      description: The engine's state (running, exited, restarting, ...).
      type: str
      sample: running
    cpu_percent:
      description: CPU as C(docker stats) shows it (100 per busy core) over RV(host.interval).
      type: float
      sample: 3.2
    cpu_percent_of_limit:
      description: RV(containers[].cpu_percent) divided by the CPUs it may use.
      type: float
      sample: 1.6
    throttled_percent:
      description: Share of CFS periods throttled during the interval; null without a CPU quota.
      type: float
      sample: null
    memory_used_bytes:
      description: Usage minus inactive file pages.
      type: int
      sample: 40853504
    memory_limit_bytes:
      description: Its memory limit, or the host's memory when it has none.
      type: int
      sample: 25324961792
    memory_percent:
      description: Memory used in percent of the limit.
      type: float
      sample: 0.16
    restart_count:
      description: The engine's RestartCount.
      type: int
      sample: 0
    restarts_since_last_run:
      description: Restarts since the previous run of the same container; null on a first run.
      type: int
      sample: 0
    oom_killed:
      description: State.OOMKilled (the last exit was an OOM kill).
      type: bool
      sample: false
    oom_kills_since_last_run:
      description: OOM kills since the previous run; null on a first run.
      type: int
      sample: 0
    running:
      description: Whether the container runs (only running containers have CPU and memory figures).
      type: bool
      sample: true
    started_at:
      description: State.StartedAt; a newer one than the previous run's counts as a restart.
      type: str
      sample: "2026-12-05T15:25:18.855688953Z"
    finished_at:
      description: State.FinishedAt of its last exit.
      type: str
      sample: "0001-01-01T00:00:00Z"
    cpu_limit:
      description: CPUs the container may use (C(--cpus), the CFS quota, or every online CPU).
      type: float
      sample: 2.0
    throttled_periods:
      description: CFS periods throttled since the container started.
      type: int
      sample: 0
    memory_limited:
      description: Whether the container has a memory limit of its own.
      type: bool
      sample: false
    oom_events:
      description: The engine's C(oom) events for the container since the previous run; null on a first run.
      type: int
      sample: 0
    oom_kill_counter:
      description: The cgroup v2 C(oom_kill) counter when the engine passes it on; null otherwise (cgroup v1).
      type: int
      sample: null
    error:
      description: Why part of the container could not be read (it went away meanwhile); null otherwise.
      type: str
      sample: null
docker_host:
  description: The Docker engine asked; null when O(containers) is false.
  returned: always
  type: str
  sample: unix:///var/run/docker.sock
state_saved:
  description: Whether O(state_path) was written (never in check mode).
  returned: always
  type: bool
  sample: true
findings:
  description:
    - C(resources.disk) and C(resources.inodes) per mount, C(resources.memory), C(resources.cpu),
      C(resources.load), C(resources.pressure) per resource, and per container
      C(resources.container.cpu), C(.memory), C(.oom) and C(.restarts); C(resources.containers)
      when the engine does not answer, C(resources.container) for a named container that does not
      exist, C(resources.state) for a state file that could not be read or written.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: The check, as listed above.
      type: str
      sample: resources.disk
    target:
      description: The mount point, C(memory), C(cpu), C(load), C(pressure/<resource>) or the container name.
      type: str
      sample: /
    severity:
      description: V(ok), V(info), V(warning) or V(critical).
      type: str
      sample: warning
    summary:
      description: One line for the on-call person.
      type: str
      sample: / is 80.2% full (9.8 GiB available of 49.1 GiB); full in 9 days at the rate of the last 6 days
    details:
      description: The measurement, thresholds, C(forecast) (points, span_days, percent_per_day, days_to_full) and C(held_until_below) when hysteresis holds it.
      type: dict
      sample: {used_percent: 80.2, warning: 85, critical: 95}
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: ok
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stronghold.ops.plugins.module_utils._findings import (
    make_finding,
    severity_at_least,
    worst_severity,
)
from ansible_collections.stronghold.ops.plugins.module_utils._options import FAIL_ON_SPEC, argument_spec, duration_spec
from ansible_collections.stronghold.ops.plugins.module_utils._resources import (
    STATE_KIND,
    STATE_VERSION,
    Judge,
    ResourceError,
    check_options,
    next_state,
    previous_run_time,
)
from ansible_collections.stronghold.ops.plugins.module_utils._resources_probe import observe
from ansible_collections.stronghold.ops.plugins.module_utils._state import StateError, load_state, save_state

ARGUMENT_SPEC = argument_spec(
    FAIL_ON_SPEC,
    own={
        "mounts": {"type": "list", "elements": "str", "default": []},
        "exclude_mount_points": {"type": "str"},
        "exclude_fs_types": {"type": "str"},
        "mount_timeout": duration_spec(5),
        "disk_warning": {"type": "raw", "default": 85},
        "disk_critical": {"type": "raw", "default": 95},
        "inode_warning": {"type": "raw", "default": 85},
        "inode_critical": {"type": "raw", "default": 95},
        "memory_warning": {"type": "raw", "default": 85},
        "memory_critical": {"type": "raw", "default": 95},
        "cpu_warning": {"type": "raw", "default": 70},
        "cpu_critical": {"type": "raw"},
        "load_warning": {"type": "float", "default": 2},
        "load_critical": {"type": "float"},
        "pressure_warning": {"type": "raw", "default": 25},
        "pressure_critical": {"type": "raw"},
        "containers": {"type": "bool", "default": True},
        "docker_host": {"type": "str"},
        "docker_timeout": duration_spec(30),
        "project": {"type": "str"},
        "names": {"type": "list", "elements": "str", "default": []},
        "container_cpu_warning": {"type": "raw", "default": 70},
        "container_cpu_critical": {"type": "raw"},
        "container_memory_warning": {"type": "raw", "default": 85},
        "container_memory_critical": {"type": "raw", "default": 95},
        "throttle_warning": {"type": "raw", "default": 25},
        "interval": duration_spec(1),
        "state_path": {"type": "path"},
        "history": {"type": "int", "default": 30},
        "forecast_days": {"type": "float", "default": 14},
        "hysteresis": {"type": "float", "default": 5},
    },
)


def run(settings, check_mode):
    """Observe, judge, remember: the module's whole result."""
    findings = []
    previous, problem = load_state(settings["state_path"], STATE_KIND, STATE_VERSION)
    if problem:
        findings.append(make_finding("resources.state", settings["state_path"], "info", problem))
    observed = observe(settings, previous_run_time(previous))
    now = time.time()
    judge = Judge(settings, previous, now)
    for mount in observed["disks"]:
        judge.disk(mount)
    judge.memory(observed["memory"])
    judge.cpu(observed["cpu_percent"], observed["interval"])
    judge.load(observed["load"], observed["cores"])
    judge.pressure(observed["pressure"])
    if settings["containers"]:
        if observed["engine_error"]:
            judge.engine_unreachable(observed["docker_host"], observed["engine_error"])
        if observed["events_error"]:
            # The OOM kills since the previous run then rest on State.OOMKilled alone.
            judge.findings.append(
                make_finding("resources.containers", observed["docker_host"], "info", observed["events_error"])
            )
        judge.missing_containers(observed["missing"])
        for record in observed["containers"] or []:
            judge.container(record)
    findings.extend(judge.findings)
    saved = False
    if settings["state_path"] and not check_mode:
        state = next_state(
            previous, judge, observed["disks"], observed["memory"], observed["containers"], now, settings["history"]
        )
        try:
            save_state(settings["state_path"], STATE_KIND, STATE_VERSION, state, now=now)
            saved = True
        except StateError as exc:
            findings.append(make_finding("resources.state", settings["state_path"], "warning", str(exc)))
    containers = observed["containers"]
    for record in containers or []:
        record.pop("full_id", None)
    return {
        "changed": False,
        "disks": [{k: v for k, v in m.items() if k != "error_severity"} for m in observed["disks"]],
        "host": {
            "memory": observed["memory"],
            "cpu_percent": observed["cpu_percent"],
            "interval": observed["interval"],
            "load": list(observed["load"]) if observed["load"] else None,
            "cores": observed["cores"],
            "pressure": observed["pressure"],
        },
        "containers": containers,
        "docker_host": observed["docker_host"],
        "state_saved": saved,
        "findings": findings,
        "worst_severity": worst_severity(findings),
    }


def failure_message(result, fail_on):
    """Why the task fails (the first five findings of the worst severity), or None."""
    worst = result["worst_severity"]
    if not severity_at_least(worst, fail_on):
        return None
    bad = [f["summary"] for f in result["findings"] if f["severity"] == worst]
    return "resource_check found %s: %s" % (worst, "; ".join(bad[:5]))


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC, supports_check_mode=True, mutually_exclusive=[("project", "names")]
    )
    failure = None
    result = {"changed": False}
    try:
        settings = check_options(module.params)
        result = run(settings, module.check_mode)
        failure = failure_message(result, settings["fail_on"])
    except ResourceError as exc:
        failure = str(exc)
    if failure is not None:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
