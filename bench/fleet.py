#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet: playbooks/daily.yml against 1 host and against N hosts (default 20), in the same run.

The hosts are network namespaces of this machine made by bench/fleet_hosts.sh (`up N
--services`): a veth pair and an sshd per namespace, reached over real SSH, with the lab's
services as each host's own 127.0.0.1:<port>. The inventory carries the lab's group vars
(inventories/lab/group_vars/all.yml), so every host runs the daily checks the lab host runs;
reports and state go to a fresh directory per run (the lab's own are not touched) and the run's
one alert goes to the lab's receivers, counted per run.

Sides, alternating in each round: Ansible's floor (a ping playbook on localhost, connection
local), the ping playbook over SSH on 1 and on N hosts (what the harness costs per host for one
module), daily.yml on 1 and on N hosts. Each run starts cold (its own ssh ControlPath
directory, masters closed after it), as an AWX job or a cron run does. Prints the medians, the
ratio N:1, the ratio above the floor, where the time goes (per task, from the fleet_timer
callback) and the CPU: controller (ansible-playbook and its children), targets (every process in
the namespaces, reaped children included), the forwarder, and the whole machine.

    .venv/bin/python bench/fleet.py [--runs 3] [--hosts 20] [--strategy linear]
    flock /tmp/stronghold-bench.lock .venv/bin/python bench/fleet.py     (figures)

Needs root, `ip netns`, openssh-server and the lab (make lab). Each daily run holds the lab lock.
The fleet is always taken down at the end (also on Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import REPO, playbook_env

FLEET = os.path.join(REPO, "bench", "fleet_hosts.sh")
FLEET_DIR = "/tmp/shfleet"
LAB = os.environ.get("STRONGHOLD_LAB_ROOT", "/var/lib/stronghold-lab")
LAB_LOCK = "/tmp/stronghold-lab.lock"
ALERTS = [os.path.join(LAB, "alerts", name) for name in ("mail.jsonl", "webhook.jsonl")]
TICK = os.sysconf("SC_CLK_TCK")
# Tasks that run on the controller only (no ssh round trip).
CONTROLLER_ACTIONS = {
    "ansible.builtin.set_fact",
    "ansible.builtin.assert",
    "ansible.builtin.debug",
    "ansible.builtin.include_role",
    "ansible.builtin.include_tasks",
    "ansible.builtin.validate_argument_spec",
    "ansible.builtin.set_stats",
    "ansible.builtin.fail",
    "ansible.builtin.meta",
}
PING = """---
- name: Ansible's floor and the harness's per-host cost (one module per host)
  hosts: "{{ fleet_target }}"
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
"""


def fleet(*args):
    subprocess.run([FLEET, *args], check=True, stdout=subprocess.DEVNULL if args[0] == "down" else None)


def inventory(root, n):
    """An inventory directory of fleet1..fleetN in stronghold_app, with the lab's group vars."""
    path = os.path.join(root, "inv-%d" % n)
    os.makedirs(os.path.join(path, "group_vars", "all"))
    shutil.copy(
        os.path.join(REPO, "inventories", "lab", "group_vars", "all.yml"), os.path.join(path, "group_vars", "all")
    )
    hosts = {"fleet%d" % i: {"ansible_host": "10.251.%d.2" % i} for i in range(1, n + 1)}
    data = {
        "stronghold_app": {
            "hosts": hosts,
            "vars": {
                "ansible_connection": "ssh",
                "ansible_user": "root",
                "ansible_ssh_private_key_file": FLEET_DIR + "/client_ed25519",
                "ansible_ssh_common_args": "-o UserKnownHostsFile=%s/known_hosts -o StrictHostKeyChecking=yes "
                "-o IdentitiesOnly=yes" % FLEET_DIR,
                # As the lab host: the modules run with the venv's Python (docker SDK, psycopg).
                "ansible_python_interpreter": os.path.join(REPO, ".venv", "bin", "python"),
            },
        }
    }
    with open(os.path.join(path, "hosts.yml"), "w") as f:
        json.dump(data, f)  # JSON is YAML
    return path


def proc_cpu(pid, children=True):
    """utime+stime (+cutime+cstime) of a pid in seconds; 0 when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / TICK


def target_cpu(n):
    """CPU seconds of every process in shfleet1..n. A session's children are reaped by its
    sshd (cutime), the sessions by the listening sshd: nothing run there is lost."""
    per = []
    for i in range(1, n + 1):
        pids = subprocess.run(
            ["ip", "netns", "pids", "shfleet%d" % i], capture_output=True, text=True, check=False
        ).stdout.split()
        per.append(sum(proc_cpu(int(p)) for p in pids))
    return per


def lab_cpu():
    """CPU seconds of the lab's services (dockerd, containerd, the containers' shims and
    processes, the lab's PostgreSQL, the TLS servers): every process tree under /var/lib/stronghold-lab
    started by init. The work the hosts ask of "their" services lands here: on a real fleet it
    would be on each host's own machine."""
    children, roots = {}, []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        children.setdefault(ppid, []).append(int(pid))
        if ppid == 1 and LAB.encode() + b"/" in cmdline:
            roots.append(int(pid))
    # each process's own CPU plus what its reaped children used
    return sum(proc_cpu(pid) for pid in _tree(roots, children))


def _tree(roots, children):
    todo, seen = list(roots), []
    while todo:
        pid = todo.pop()
        seen.append(pid)
        todo += children.get(pid, [])
    return seen


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / TICK  # minus idle and iowait


def close_masters(cpdir):
    """Close the run's ssh ControlPersist masters; return their CPU seconds (they are not our
    children: ssh daemonises them)."""
    cpu = 0.0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if cpdir.encode() in f.read():
                        cpu += proc_cpu(int(pid), children=False)
            except OSError:
                pass
    for sock in glob.glob(os.path.join(cpdir, "*")):
        subprocess.run(["ssh", "-o", "ControlPath=" + sock, "-O", "exit", "x"], capture_output=True, check=False)
    return cpu


def alert_lines():
    count = 0
    for path in ALERTS:
        try:
            with open(path) as f:
                count += sum(1 for dummy in f)
        except OSError:
            pass
    return count


class LabLock:
    def __enter__(self):
        self.f = open(LAB_LOCK, "a")
        fcntl.flock(self.f, fcntl.LOCK_EX)

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def run_side(side, n, root, inv, ping, env, forwarder):
    """One timed ansible-playbook; returns a dict of wall, CPU, alerts, timer rows, findings."""
    work = tempfile.mkdtemp(prefix="run-", dir=root)
    cpdir = os.path.join(work, "cp")
    os.mkdir(cpdir)
    timer = os.path.join(work, "timer.json")
    env = dict(env, ANSIBLE_SSH_CONTROL_PATH_DIR=cpdir, FLEET_TIMER_OUT=timer)
    if side == "floor":
        cmd = ["ansible-playbook", "-i", "localhost,", "-c", "local", ping, "-e", "fleet_target=localhost"]
        cmd += ["-e", "ansible_python_interpreter=" + os.path.join(REPO, ".venv", "bin", "python")]
    elif side == "ping":
        cmd = ["ansible-playbook", "-i", inv, ping, "-e", "fleet_target=stronghold_app"]
    else:
        cmd = [
            "ansible-playbook",
            "-i",
            inv,
            os.path.join(REPO, "playbooks", "daily.yml"),
            "-e",
            "report_dir=%s/report stronghold_state_dir=%s/state" % (work, work),
        ]
    lock = LabLock() if side == "daily" else None
    if lock:
        lock.__enter__()
    try:
        alerts0 = alert_lines()
        targets0 = target_cpu(n) if side != "floor" else []
        fwd0 = proc_cpu(forwarder, children=False)
        lab0 = lab_cpu()
        busy0 = machine_busy()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        done = subprocess.run(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
        )
        wall = time.monotonic() - start
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy1 = machine_busy()
        masters = close_masters(cpdir)
        time.sleep(0.3)  # the sessions' sshds exit and are reaped
        targets1 = target_cpu(n) if side != "floor" else []
        fwd1 = proc_cpu(forwarder, children=False)
        lab1 = lab_cpu()
        alerts = alert_lines() - alerts0
    finally:
        if lock:
            lock.__exit__()
    if done.returncode not in (0, 2) or (side != "daily" and done.returncode):
        raise SystemExit("%s on %d host(s) failed (rc %d):\n%s" % (side, n, done.returncode, done.stdout[-4000:]))
    with open(timer) as f:
        rows = json.load(f)["rows"]
    findings = {}
    for path in glob.glob(os.path.join(work, "report", "fleet*", "daily", "latest.json")):
        with open(path) as f:
            report = json.load(f)
        findings[report["host"]] = sorted(
            {(x["check"], str(x.get("target")), x["severity"]) for x in report["findings"]}
        )
    fleet_hosts = None
    try:
        with open(os.path.join(work, "report", "_fleet", "daily", "latest.json")) as f:
            fleet_hosts = len(json.load(f)["hosts"])
    except OSError:
        pass
    target = [b - a for a, b in zip(targets0, targets1)]
    result = {
        "side": side,
        "hosts": n,
        "rc": done.returncode,
        "wall": wall,
        "controller_cpu": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime) + masters,
        "target_cpu": sum(target),
        "target_cpu_max": max(target) if target else 0.0,
        "forwarder_cpu": fwd1 - fwd0,
        "lab_cpu": lab1 - lab0,
        "machine_cpu": busy1 - busy0,
        "alerts": alerts,
        "rows": rows,
        "findings": findings,
        "fleet_hosts": fleet_hosts,
    }
    shutil.rmtree(work, ignore_errors=True)
    return result


LOAD_CHECKS = {"resources.cpu", "resources.load", "resources.pressure"}


def strip(findings):
    return [x for x in findings or [] if x[0] not in LOAD_CHECKS]


def med(results, key):
    return statistics.median(r[key] for r in results)


def per_task(runs):
    """task -> (median span over runs: first start to last end on any host, median mean per-host
    duration, host-calls per run, whether it costs a round trip to the host)."""
    spans, durs = {}, {}
    calls, remote = {}, {}
    for r in runs:
        by = {}
        for row in r["rows"]:
            by.setdefault(row["task"], []).append(row)
        for task, rows in by.items():
            spans.setdefault(task, []).append(max(x["end"] for x in rows) - min(x["start"] for x in rows))
            durs.setdefault(task, []).append(statistics.mean(x["end"] - x["start"] for x in rows))
            calls[task] = len(rows)
            remote[task] = any(
                x["action"] not in CONTROLLER_ACTIONS and not x["delegated"] and x["status"] != "skipped" for x in rows
            )
    return {t: (statistics.median(spans[t]), statistics.median(durs[t]), calls[t], remote[t]) for t in spans}


def hosts_wall(r):
    by = {}
    for row in r["rows"]:
        lo, hi = by.get(row["host"], (row["start"], row["end"]))
        by[row["host"]] = (min(lo, row["start"]), max(hi, row["end"]))
    return {h: hi - lo for h, (lo, hi) in by.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--strategy", default=None, help="ANSIBLE_STRATEGY (linear, free, host_pinned)")
    parser.add_argument("--no-pipelining", action="store_true", help="ANSIBLE_PIPELINING=False (to compare)")
    parser.add_argument("--sides", default="floor,ping,daily", help="comma-separated subset of floor,ping,daily")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (ip netns)")
    sides = args.sides.split(",")
    n = args.hosts

    def stop(signum, frame):
        raise SystemExit("stopped by signal %d" % signum)

    signal.signal(signal.SIGTERM, stop)
    root = tempfile.mkdtemp(prefix="stronghold-bench-fleet-")
    with open("/proc/loadavg") as f:
        load0 = f.read().split()[:3]
    try:
        fleet("up", str(n), "--services")
        with open(os.path.join(FLEET_DIR, "forward.pid")) as f:
            forwarder = int(f.read())
        ping = os.path.join(root, "ping.yml")
        with open(ping, "w") as f:
            f.write(PING)
        invs = {1: inventory(root, 1), n: inventory(root, n)}
        extra = {
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(REPO, "bench", "fleet", "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "fleet_timer",
        }
        if args.strategy:
            extra["ANSIBLE_STRATEGY"] = args.strategy
        if args.no_pipelining:
            extra["ANSIBLE_PIPELINING"] = "False"
        env = playbook_env(**extra)
        plan = []
        if "floor" in sides:
            plan.append(("floor", 1))
        for side in ("ping", "daily"):
            if side in sides:
                plan += [(side, 1), (side, n)]
        results = {key: [] for key in plan}
        for k in range(args.runs):
            order = plan if k % 2 == 0 else plan[::-1]
            for side, hosts in order:
                r = run_side(side, hosts, root, invs[hosts], ping, env, forwarder)
                results[(side, hosts)].append(r)
                print(
                    "run %d %-5s %2d host(s): %6.2f s  cpu controller %5.1f targets %5.1f forwarder %4.1f lab %5.1f machine %5.1f"
                    "  alerts %d  rc %d"
                    % (
                        k + 1,
                        side,
                        hosts,
                        r["wall"],
                        r["controller_cpu"],
                        r["target_cpu"],
                        r["forwarder_cpu"],
                        r["lab_cpu"],
                        r["machine_cpu"],
                        r["alerts"],
                        r["rc"],
                    ),
                    flush=True,
                )
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        fleet("down")
        shutil.rmtree(root, ignore_errors=True)
    with open("/proc/loadavg") as f:
        load1 = f.read().split()[:3]
    report(results, n, args, load0, load1)


def report(results, n, args, load0, load1):
    print()
    print(
        "fleet: %d run(s) per side, %d hosts, strategy %s, pipelining %s; load average %s at start, %s at end"
        % (
            args.runs,
            n,
            args.strategy or "(config)",
            "off" if args.no_pipelining else "(config)",
            " ".join(load0),
            " ".join(load1),
        )
    )
    print()
    print(
        "| side | hosts | wall median (s) | runs (s) | controller CPU s | target CPU s (max host) | lab services CPU s "
        "| forwarder CPU s | machine busy |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for (side, hosts), rs in results.items():
        print(
            "| %s | %d | %.2f | %s | %.1f | %.1f (%.1f) | %.1f | %.1f | %.0f %% |"
            % (
                side,
                hosts,
                med(rs, "wall"),
                " ".join("%.2f" % r["wall"] for r in rs),
                med(rs, "controller_cpu"),
                med(rs, "target_cpu"),
                med(rs, "target_cpu_max"),
                med(rs, "lab_cpu"),
                med(rs, "forwarder_cpu"),
                100 * statistics.median(r["machine_cpu"] / r["wall"] / 2 for r in rs),
            )
        )
    floor = med(results[("floor", 1)], "wall") if ("floor", 1) in results else 0.0
    print()
    for side in ("ping", "daily"):
        if (side, 1) in results:
            one, many = med(results[(side, 1)], "wall"), med(results[(side, n)], "wall")
            print(
                "%s: %d:1 = %.2fx (goal <= 3x for daily); above the floor (%.2f s): %.2fx"
                % (side, n, many / one, floor, (many - floor) / max(one - floor, 1e-9))
            )
    if ("daily", 1) not in results:
        return
    d1, dn = results[("daily", 1)], results[("daily", n)]
    w1, wn = med(d1, "wall"), med(dn, "wall")
    # Saturation: the N-host daily run's CPU against what 2 cores can give in its wall time.
    host_side = med(dn, "target_cpu") + med(dn, "lab_cpu") + med(dn, "forwarder_cpu")
    cpu_n = med(dn, "controller_cpu") + host_side
    print(
        "daily %d hosts: the run's CPU (controller + targets + lab services + forwarder) %.1f s in %.1f s wall "
        "= %.0f %% of 2 cores; machine busy (other users included) %.0f %%"
        % (n, cpu_n, wn, 100 * cpu_n / wn / 2, 100 * statistics.median(r["machine_cpu"] / r["wall"] / 2 for r in dn))
    )
    # The harness: the hosts' work (targets, their services, the forwarder) shares the
    # controller's 2 cores. On a fleet each host brings its own CPU; what stays shared is the
    # controller. Estimate: the 1-host wall plus the extra controller CPU spread on 2 cores.
    extra_ctl = med(dn, "controller_cpu") - med(d1, "controller_cpu")
    print(
        "harness: the %d hosts' own work (targets + lab services + forwarder) %.1f CPU s = %.1f s of the 2 cores "
        "(%.0f %% of the %d-host wall); controller CPU %.1f s (1 host %.1f s). Each host on its own CPU, the "
        "controller's 2 cores for the controller: about %.1f + %.1f / 2 = %.1f s, %.2fx of 1 host (estimate)"
        % (
            n,
            host_side,
            host_side / 2,
            100 * host_side / 2 / wn,
            n,
            med(dn, "controller_cpu"),
            med(d1, "controller_cpu"),
            w1,
            extra_ctl,
            w1 + extra_ctl / 2,
            (w1 + extra_ctl / 2) / w1,
        )
    )
    print(
        "daily alerts per run: 1 host %s, %d hosts %s (lines added to the lab's mail.jsonl + webhook.jsonl; "
        "one alert = 2)" % ([r["alerts"] for r in d1], n, [r["alerts"] for r in dn])
    )
    ref = d1[0]["findings"].get("fleet1")
    same = all(strip(f) == strip(ref) for r in d1 + dn for f in r["findings"].values())
    hosts_seen = ["%d (run report of all hosts: %s)" % (len(r["findings"]), r["fleet_hosts"]) for r in dn]
    print(
        "findings (check, target, severity; the machine's load checks %s apart) of every host in every daily "
        "run identical to 1-host run 1: %s (%d findings; hosts reported per %d-host run %s)"
        % (sorted(LOAD_CHECKS), same, len(ref or []), n, hosts_seen)
    )
    load = {}
    for r in d1 + dn:
        for f in r["findings"].values():
            for x in f:
                if x[0] in LOAD_CHECKS and x[2] != "ok":
                    load["%s %s %s" % x] = load.get("%s %s %s" % x, 0) + 1
    print("load checks not ok (host-runs; they measure this machine's load): %s" % (load or "none"))
    if not same:
        for r in d1 + dn:
            for h, f in r["findings"].items():
                if strip(f) != strip(ref):
                    print("  %s differs: +%s -%s" % (h, sorted(set(f) - set(ref)), sorted(set(ref) - set(f))))
    t1, tn = per_task(d1), per_task(dn)
    remote1 = sum(1 for t in t1.values() if t[3])
    print(
        "daily tasks per host: %d results, %d of them a round trip to the host (modules; loops count once)"
        % (sum(1 for r in d1[0]["rows"] if r["host"] == "fleet1"), remote1)
    )
    walls = [hosts_wall(r) for r in dn]
    last = walls[-1]
    m = statistics.median(last.values())
    slow = max(last, key=last.get)
    print(
        "%d-host run %d: host wall median %.1f s, slowest %s %.1f s, flagged (> 1.5x median): %s"
        % (n, len(dn), m, slow, last[slow], [h for h, w in last.items() if w > 1.5 * m] or "none")
    )
    print()
    print("Where the time goes (daily, median over runs; span = first start to last end over the hosts):")
    print()
    print("| task | round trip | 1 host span (s) | %d hosts span (s) | %d hosts mean per host (s) |" % (n, n))
    print("|---|---|---|---|---|")
    total1 = sum(v[0] for v in t1.values())
    totaln = sum(v[0] for v in tn.values())
    for task, v in sorted(tn.items(), key=lambda kv: -kv[1][0])[:18]:
        print(
            "| %s | %s | %.2f | %.2f | %.2f |" % (task[:90], "yes" if v[3] else "", t1.get(task, (0,))[0], v[0], v[1])
        )
    rest1 = total1 - sum(v[0] for t, v in t1.items() if t in dict(sorted(tn.items(), key=lambda kv: -kv[1][0])[:18]))
    print(
        "| (the other tasks) | | %.2f | %.2f | |"
        % (rest1, totaln - sum(v[0] for v in sorted(tn.values(), key=lambda v: -v[0])[:18]))
    )
    r1 = sum(v[0] for v in t1.values() if v[3])
    rn = sum(v[0] for v in tn.values() if v[3])
    print()
    print(
        "sum of spans: 1 host %.1f s (round-trip tasks %.1f s, controller-only %.1f s); %d hosts %.1f s "
        "(round-trip %.1f s, controller-only %.1f s)" % (total1, r1, total1 - r1, n, totaln, rn, totaln - rn)
    )


if __name__ == "__main__":
    sys.exit(main())
