#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""backup_verify at level stream versus the shell way and versus `pigz -t`, on a >= 1 GiB dump.

The dump: a plain pg_dump of at least 1 GiB of SQL (uncompressed), gzipped (`pg_dump | gzip -6`,
both exit codes checked), with a sha256sum sidecar, named as the runbook names backups. It is
built once with a throwaway PostgreSQL 15 cluster (initdb as the postgres OS user in a temporary
directory, 127.0.0.1:55490 and a socket there; removed at the end, also on Ctrl-C or a failure)
holding one table of wide rows made with generate_series, and cached under
.build/bench/backup_verify/ (reused when present; --rebuild to build again).

Three sides, each run --runs times, alternating, with the file in the page cache (it is read once
before the first measured run, untimed), so the comparison is of CPU work, not of the disk:

  * shell: what an operator types (bash -o pipefail): `gzip -t F && sha256sum -c F.sha256 &&
    zcat F | tail -c 65536 | grep -q -- '-- PostgreSQL database dump complete'`. Product goal:
    backup_verify at most 0.6x its wall time.
  * pigz: `pigz -t F` alone (no checksum, no marker). Product goal: backup_verify within 1.1x.
  * backup_verify: `ansible-playbook` on a small playbook (localhost, connection local, the
    repository's ansible.cfg) running stronghold.ops.backup_verify level=stream on the cache
    directory (register, then debug of the result), as a user would. The wall time includes the
    Ansible start-up; the floor of that (a ping playbook) is measured and reported next to it,
    and so is the module's own read pass (the duration of its gzip check).

Inflater: the module uses ISA-L's inflater when the Python package isal is installed where the
module runs (here the repository's .venv), stock zlib otherwise; the bench says which, and also
times the verification code alone with stock zlib in a child, for comparison.

Memory: the module's verification code (verify_stream of module_utils/_backup_files.py, with
its hashing thread) is run alone in a child Python under /usr/bin/time -v on the full dump and
on a dump ten times smaller; the figure is that child's maximum resident set size: the Python
interpreter, the imported modules and every buffer, not only the buffers. A child that imports
the same code and verifies nothing gives the interpreter's floor. The module process's own peak
(peak_rss_kib, from getrusage in the module; it also holds Ansible's module runtime, AnsiballZ
and the argument parsing) is reported from the playbook runs.

Scenario last_n (issue 15, "many backups"): 7 backups (--copies) of the same 1.15 GiB of SQL
each (the "1 GiB" is the dump's size; each .sql.gz is 552 MiB), made from the cached dump by
appending to a copy of it a second gzip member with its own comment line after the completion
marker: 7 complete dumps with different bytes, SHA-256 sums and sidecars, and their own pages
in the page cache (about 3.8 GiB; the disk is checked first, fincore says how much of them is
cached). `which: last_n count: 7` with `workers: <cores>` against `workers: 1`, both through
ansible-playbook, alternating, each checked to give the same checks and findings; the Ansible
floor, the shell way in a loop over the 7 files (--shell-runs, slow), and the same reading in a
child Python without Ansible by threads (map_ordered) and by forked processes
(map_in_processes, what the module uses), to show why processes. Memory: the module's peak and
its largest worker's (workers_peak_rss_kib). The copies are removed at the end (--keep-copies
keeps them for the next run); the cached dump stays.

    .venv/bin/python bench/backup_verify.py --scenarios last_n [--runs 3] [--shell-runs 1]

Nothing here asserts a time: the bench reports, in Markdown, and exits 0 when it could measure.

    .venv/bin/python bench/backup_verify.py [--runs 3] [--min-sql-gib 1.05] [--rebuild]
    (as root, after make venv collection-link)
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import PGBIN, Cluster, playbook_env, timed_playbook

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(REPO, ".build", "bench", "backup_verify")
SMALL = os.path.join(CACHE, "small")
HOST, PORT, DB = "127.0.0.1", 55490, "bench"
NAME = "backup_20260101_020000.sql.gz"
MARKER = "-- PostgreSQL database dump complete"
# One row is about 210 bytes of COPY text: id, account, amount, a timestamp and a memo.
ROW_BYTES = 200


def log(message):
    print(message, file=sys.stderr, flush=True)


def terminate(signum, frame):
    raise SystemExit(128 + signum)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_sidecar(path):
    with open(path + ".sha256", "w", encoding="ascii") as handle:
        handle.write("%s  %s\n" % (sha256_of(path), os.path.basename(path)))


def dump_gzip(root, dbname, out):
    """pg_dump | gzip -6 > out, both exit codes checked (pipefail); returns the uncompressed SQL bytes."""
    tmp = out + ".part"
    with open(tmp, "wb") as sink:
        dump = subprocess.Popen(
            [os.path.join(PGBIN, "pg_dump"), "-h", root, "-p", str(PORT), "-U", "postgres", dbname],
            stdout=subprocess.PIPE,
        )
        gz = subprocess.Popen(["gzip", "-6"], stdin=subprocess.PIPE, stdout=sink)
        raw = 0
        for chunk in iter(lambda: dump.stdout.read(1 << 20), b""):
            raw += len(chunk)
            gz.stdin.write(chunk)
        gz.stdin.close()
        if dump.wait() != 0 or gz.wait() != 0:
            raise SystemExit("pg_dump (rc %s) | gzip (rc %s) failed" % (dump.returncode, gz.returncode))
    os.rename(tmp, out)
    return raw


def build(min_sql_bytes):
    """The cached dump, its sidecar, and a dump ten times smaller (for the memory check)."""
    meta_path = os.path.join(CACHE, "meta.json")
    rows = int(min_sql_bytes / ROW_BYTES * 1.05)
    os.makedirs(SMALL, exist_ok=True)
    log(
        "building a dump of >= %.2f GiB of SQL (%d rows) with a throwaway cluster on %s:%d"
        % (min_sql_bytes / 2**30, rows, HOST, PORT)
    )
    start = time.monotonic()
    with Cluster("backup_verify", HOST, PORT, ["-c", "fsync=off", "-c", "max_wal_size=8GB"]) as cluster:
        cluster.psql("postgres", "CREATE DATABASE %s" % DB)
        cluster.psql("postgres", "CREATE DATABASE %s_small" % DB)
        for dbname, count in ((DB, rows), (DB + "_small", rows // 10)):
            cluster.psql(
                dbname,
                "CREATE TABLE ledger_entry (id bigint PRIMARY KEY, account int, amount numeric(14,2), "
                "created_at timestamptz, memo text)",
            )
            cluster.psql(
                dbname,
                "INSERT INTO ledger_entry SELECT g, g %% 5000, (g %% 1000003) / 100.0, "
                "'2020-01-01'::timestamptz + g * interval '7 seconds', "
                "md5(g::text) || ' ' || md5((g * 31)::text) || ' transfer ' || (g %% 977) || ' ' || "
                "md5((g * 7)::text) || ' ' || md5((g * 13)::text) || ' ' || repeat('x', (g %% 40)) "
                "FROM generate_series(1, %d) g" % count,
            )
        raw = dump_gzip(cluster.root, DB, os.path.join(CACHE, NAME))
        small_raw = dump_gzip(cluster.root, DB + "_small", os.path.join(SMALL, NAME))
    if raw < min_sql_bytes:
        raise SystemExit("the dump has only %d bytes of SQL, fewer than %d" % (raw, min_sql_bytes))
    for path in (os.path.join(CACHE, NAME), os.path.join(SMALL, NAME)):
        write_sidecar(path)
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    meta = {
        "sql_bytes": raw,
        "small_sql_bytes": small_raw,
        "rows": rows,
        "build_seconds": round(time.monotonic() - start, 1),
    }
    with open(meta_path, "w", encoding="ascii") as handle:
        json.dump(meta, handle)
    log("built in %.0f s: %s" % (time.monotonic() - start, meta))
    return meta


def cached(min_sql_bytes, rebuild):
    meta_path = os.path.join(CACHE, "meta.json")
    files = [os.path.join(CACHE, NAME), os.path.join(CACHE, NAME + ".sha256"), os.path.join(SMALL, NAME), meta_path]
    if not rebuild and all(os.path.exists(path) for path in files):
        with open(meta_path, encoding="ascii") as handle:
            meta = json.load(handle)
        if meta["sql_bytes"] >= min_sql_bytes:
            log("reusing the cached dump in %s" % CACHE)
            return meta
    return build(min_sql_bytes)


def timed(command):
    start = time.monotonic()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit("%s failed (rc %d): %s" % (command, done.returncode, done.stderr.decode()[-2000:]))
    return wall


def shell_way(path):
    directory, name = os.path.split(path)
    script = (
        "set -o pipefail; cd %s && gzip -t %s && sha256sum -c --quiet %s.sha256 && zcat %s | tail -c 65536 | grep -q -- '%s'"
        % (directory, name, name, name, MARKER)
    )
    return timed(["bash", "-c", script])


class Ansible:
    def __init__(self, workdir):
        self.workdir = workdir
        self.env = playbook_env()

    def playbook(self, name, task, show, python="{{ ansible_playbook_python }}"):
        path = os.path.join(self.workdir, name + ".yml")
        task = dict(task, register="result")
        play = [
            {
                "name": name,
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "vars": {"ansible_python_interpreter": python},
                "tasks": [task, {"name": "show", "ansible.builtin.debug": {"var": show}}],
            }
        ]
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(play, handle, indent=1)  # JSON is YAML
        return path

    def run(self, path):
        wall, shown = timed_playbook(path, REPO, self.env)
        return wall, next(iter(shown.values()))


CHILD = """
import sys, time, zlib
sys.path.insert(0, %(collections)r)
from ansible_collections.stronghold.ops.plugins.module_utils import _backup_files
if sys.argv[2] == 'zlib':
    _backup_files.inflate_lib = zlib
if sys.argv[1] != '-':
    start = time.monotonic()
    result = _backup_files.verify_stream(sys.argv[1])
    print(time.monotonic() - start)
    if not result['ok']:
        raise SystemExit('verification failed: %%r' %% result['checks'])
"""


def child(path, backend="default"):
    """(max RSS KiB, seconds) of a child Python that runs verify_stream(path) ('-': imports only).

    ``backend`` ``zlib`` forces the stock inflater; ``default`` takes ISA-L when it is installed.
    """
    code = CHILD % {"collections": os.path.join(REPO, ".build", "collections")}
    done = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-c", code, path, backend],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit("the memory child failed: %s" % done.stderr[-2000:])
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return rss, float(done.stdout.strip() or 0)


def single_scenario(args, meta):
    """One 1.15 GiB dump: backup_verify against the shell way and pigz -t."""
    path = os.path.join(CACHE, NAME)
    size = os.path.getsize(path)
    log("warming the page cache")
    sha256_of(path)
    workdir = tempfile.mkdtemp(prefix="stronghold-bench-backup_verify-play-")
    try:
        ansible = Ansible(workdir)
        verify = ansible.playbook(
            "backup_verify",
            {
                "name": "backup_verify level=stream",
                "stronghold.ops.backup_verify": {"directory": CACHE, "level": "stream"},
            },
            "result",
        )
        floor = ansible.playbook("floor", {"name": "ping", "ansible.builtin.ping": {}}, "result")
        # The system Python has neither psycopg (not imported below level restore anyway) nor
        # isal: the module process as on a target with nothing but Debian's Python.
        system = (
            ansible.playbook(
                "system_python",
                {
                    "name": "backup_verify level=stream",
                    "stronghold.ops.backup_verify": {"directory": CACHE, "level": "stream"},
                },
                "result",
                python="/usr/bin/python3",
            )
            if os.path.exists("/usr/bin/python3")
            else None
        )
        times = {"shell": [], "pigz": [], "backup_verify": [], "floor": []}
        module_read = []
        module_rss = []
        backend = None
        for run in range(args.runs):
            times["shell"].append(shell_way(path))
            times["pigz"].append(timed(["pigz", "-t", path]))
            wall, shown = ansible.run(verify)
            if shown["status"] != "ok":
                raise SystemExit("backup_verify did not pass the dump: %s" % shown["checks"])
            times["backup_verify"].append(wall)
            module_read.append(next(c["duration"] for c in shown["checks"] if c["name"] == "gzip"))
            module_rss.append(shown["peak_rss_kib"])
            backend = shown["backups"][0].get("inflate_backend")
            times["floor"].append(ansible.run(floor)[0])
            log(
                "run %d: shell %.2f s, pigz -t %.2f s, backup_verify %.2f s (read pass %.2f s), ansible floor %.2f s"
                % (run + 1, times["shell"][-1], times["pigz"][-1], wall, module_read[-1], times["floor"][-1])
            )
        system_run = ansible.run(system) if system else None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    memory = {
        "floor": child("-"),
        "full": child(path),
        "small": child(os.path.join(SMALL, NAME)),
        "zlib": child(path, "zlib"),
    }
    med = dict((key, statistics.median(values)) for key, values in times.items())
    read = statistics.median(module_read)
    print(
        "## backup_verify level=stream on a %.2f GiB SQL dump (%.0f MiB gzipped), median of %d runs\n"
        % (meta["sql_bytes"] / 2**30, size / 2**20, args.runs)
    )
    print("| side | wall s | ratio of backup_verify |")
    print("|---|---|---|")
    print(
        "| shell: gzip -t, sha256sum -c, zcat \\| tail \\| grep | %.2f | %.2fx (goal <= 0.6x) |"
        % (med["shell"], med["backup_verify"] / med["shell"])
    )
    print("| pigz -t | %.2f | %.2fx (goal <= 1.1x) |" % (med["pigz"], med["backup_verify"] / med["pigz"]))
    print("| backup_verify (ansible-playbook) | %.2f | 1.00x |" % med["backup_verify"])
    print("| of which the Ansible floor (ping playbook) | %.2f | |" % med["floor"])
    print("| of which the module's single read pass | %.2f | %.2fx of pigz -t |" % (read, read / med["pigz"]))
    print(
        "\nThroughput of the read pass: %.0f MB/s compressed, %.0f MB/s uncompressed (inflater: %s).\n"
        % (size / read / 1e6, meta["sql_bytes"] / read / 1e6, backend)
    )
    print("| memory (max RSS) | MiB |")
    print("|---|---|")
    print("| child Python importing the verification code only | %.1f |" % (memory["floor"][0] / 1024.0))
    print(
        "| child running verify_stream on the %.2f GiB dump (%s, %.2f s) | %.1f (goal <= 32) |"
        % (meta["sql_bytes"] / 2**30, backend, memory["full"][1], memory["full"][0] / 1024.0)
    )
    print("| the same with the stock zlib inflater (%.2f s) | %.1f |" % (memory["zlib"][1], memory["zlib"][0] / 1024.0))
    print(
        "| child running verify_stream on a %.2f GiB dump | %.1f |"
        % (meta["small_sql_bytes"] / 2**30, memory["small"][0] / 1024.0)
    )
    print(
        (
            "| the module process in the playbook (the Ansible module runtime included; psycopg is imported only for level "
            "restore) | %.1f |"
        )
        % (max(module_rss) / 1024.0)
    )
    if system_run:
        print(
            "| the module process with /usr/bin/python3 (no psycopg, %s inflater; %.2f s wall) | %.1f |"
            % (
                system_run[1]["backups"][0].get("inflate_backend"),
                system_run[0],
                system_run[1]["peak_rss_kib"] / 1024.0,
            )
        )
    print("\nRuns (s): %s" % json.dumps(dict((k, [round(v, 2) for v in vals]) for k, vals in times.items())))


LAST_N = os.path.join(CACHE, "last_n")
COPY_NAME = "backup_202601%02d_020000.sql.gz"


def disk_check(directory, needed):
    free = shutil.disk_usage(directory).free
    if free < needed * 1.5:
        raise SystemExit(
            "%s has %.1f GiB free, the copies need %.1f GiB (and a margin)" % (directory, free / 2**30, needed / 2**30)
        )
    return free


def make_copies(count):
    """``count`` distinct backups in LAST_N, each the cached dump plus a gzip member of its own.

    Each copy is the cached .sql.gz (one gzip member) followed by a second member holding the
    line ``-- bench copy N``: a comment after pg_dump's completion marker, which pg_dump's own
    format allows, so each copy is a complete dump with its own bytes, its own SHA-256 (and
    sidecar) and its own pages in the page cache: never a hard link, never the same file twice.
    """
    source = os.path.join(CACHE, NAME)
    size = os.path.getsize(source)
    disk_check(CACHE, size * count)
    os.makedirs(LAST_N, exist_ok=True)
    paths = []
    old = time.time() - 3600  # older than the module's settle (2 minutes)
    for number in range(1, count + 1):
        path = os.path.join(LAST_N, COPY_NAME % number)
        paths.append(path)
        if os.path.exists(path + ".sha256"):
            continue
        tmp = path + ".part"
        shutil.copyfile(source, tmp)
        with open(tmp, "ab") as handle:
            handle.write(gzip.compress(("-- bench copy %d\n" % number).encode(), 6))
        os.rename(tmp, path)
        write_sidecar(path)
        os.utime(path, (old, old))
    return paths


def page_cache_share(paths):
    """The share of the files' pages in the page cache (fincore), None when it cannot say."""
    if shutil.which("fincore") is None:
        return None
    done = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES,SIZE"] + paths,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return None
    res = size = 0
    for line in done.stdout.split("\n"):
        if line.strip():
            parts = line.split()
            res, size = res + int(parts[0]), size + int(parts[1])
    return res / size if size else None


def shell_loop(paths):
    """The shell way, one file after another (bash -o pipefail)."""
    script = (
        "set -o pipefail; cd %s && for f in %s; do gzip -t $f && sha256sum -c --quiet $f.sha256 && "
        % (
            LAST_N,
            " ".join(os.path.basename(p) for p in paths),
        )
        + "zcat $f | tail -c 65536 | grep -q -- '%s' || exit 1; done" % MARKER
    )
    return timed(["bash", "-c", script])


POOL_CHILD = """
import os, resource, sys, time
sys.path.insert(0, %(collections)r)
from ansible_collections.stronghold.ops.plugins.module_utils import _backup_files
paths = sys.argv[3:]
workers = int(sys.argv[2])
start = time.monotonic()
mapper = _backup_files.map_in_processes if sys.argv[1] == 'processes' else _backup_files.map_ordered
results = [r for r, e in mapper(_backup_files.verify_stream, paths, workers)]
wall = time.monotonic() - start
if not all(r and r['ok'] for r in results):
    raise SystemExit('verification failed')
print(wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def pool_child(kind, workers, paths):
    """(wall s, this Python's max RSS KiB, its largest child's max RSS KiB) of verify_stream over the
    paths, by ``workers`` threads (map_ordered) or forked processes (map_in_processes, as the module)."""
    code = POOL_CHILD % {"collections": os.path.join(REPO, ".build", "collections")}
    done = subprocess.run(
        [sys.executable, "-c", code, kind, str(workers)] + paths, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit("the %s child failed: %s" % (kind, done.stderr[-2000:]))
    wall, rss, child_rss = done.stdout.split()
    return float(wall), int(rss), int(child_rss)


def comparable(shown):
    """What must be the same whether the files are read one after another or at the same time."""
    backups = [
        {k: v for k, v in b.items() if k not in ("throughput_mbps", "age_seconds")}
        | {"checks": [{k: v for k, v in c.items() if k != "duration"} for c in b["checks"]]}
        for b in shown["backups"]
    ]
    findings = [(f["check"], f["target"], f["severity"], f["summary"]) for f in shown["findings"]]
    return backups, findings


def last_n_scenario(args, meta):
    """7 backups of 1.15 GiB of SQL each: which=last_n count=7, workers=<cores> against workers=1."""
    cores = len(os.sched_getaffinity(0))
    workers = args.workers or cores
    log("disk: %.1f GiB free in %s" % (shutil.disk_usage(CACHE).free / 2**30, CACHE))
    paths = make_copies(args.copies)
    compressed = sum(os.path.getsize(p) for p in paths)
    log("warming the page cache (%d files, %.2f GiB)" % (len(paths), compressed / 2**30))
    for path in paths:
        sha256_of(path)
    cache_before = page_cache_share(paths)
    workdir = tempfile.mkdtemp(prefix="stronghold-bench-backup_verify-play-")
    try:
        ansible = Ansible(workdir)
        task = {"directory": LAST_N, "level": "stream", "which": "last_n", "count": len(paths)}
        plays = {
            "serial": ansible.playbook(
                "serial", {"name": "workers 1", "stronghold.ops.backup_verify": dict(task, workers=1)}, "result"
            ),
            "parallel": ansible.playbook(
                "parallel", {"name": "workers", "stronghold.ops.backup_verify": dict(task, workers=workers)}, "result"
            ),
        }
        floor = ansible.playbook("floor", {"name": "ping", "ansible.builtin.ping": {}}, "result")
        times = {"serial": [], "parallel": [], "floor": [], "threads": [], "processes": []}
        rss = {"serial": [], "parallel": [], "threads": [], "processes": [], "process_worker": [], "module_worker": []}
        reads = {"serial": [], "parallel": []}
        seen = {}
        for run in range(args.runs):
            order = ("serial", "parallel") if run % 2 == 0 else ("parallel", "serial")
            for side in order:
                wall, shown = ansible.run(plays[side])
                if shown["status"] != "ok" or len(shown["backups"]) != len(paths):
                    raise SystemExit("backup_verify %s did not pass the copies: %s" % (side, shown["checks"]))
                times[side].append(wall)
                rss[side].append(shown["peak_rss_kib"])
                if side == "parallel":
                    rss["module_worker"].append(shown["workers_peak_rss_kib"])
                reads[side].append(sum(c["duration"] for c in shown["checks"] if c["name"] == "gzip"))
                seen[side] = (shown["workers"], comparable(shown))
            times["floor"].append(ansible.run(floor)[0])
            for kind in (("threads", "processes") if run % 2 == 0 else ("processes", "threads")) * (
                run < args.pool_runs
            ):
                wall, own, child = pool_child(kind, workers, paths)
                times[kind].append(wall)
                rss[kind].append(own)
                if kind == "processes":
                    rss["process_worker"].append(child)
            pools = ""
            if run < args.pool_runs:
                pools = "; in-process threads %.2f s, processes %.2f s" % (times["threads"][-1], times["processes"][-1])
            log(
                "run %d: serial %.2f s, workers=%d %.2f s, floor %.2f s%s"
                % (run + 1, times["serial"][-1], workers, times["parallel"][-1], times["floor"][-1], pools)
            )
        if seen["serial"][1] != seen["parallel"][1]:
            raise SystemExit("workers=%d and workers=1 gave different results" % workers)
        shell = [shell_loop(paths) for dummy in range(args.shell_runs)]
        log("shell loop: %s" % ", ".join("%.1f s" % w for w in shell))
        cache_after = page_cache_share(paths)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    med = dict((key, statistics.median(values)) for key, values in times.items() if values)
    floor_s = med["floor"]
    ratio = med["parallel"] / med["serial"]
    net = (med["parallel"] - floor_s) / (med["serial"] - floor_s)
    print(
        "## backup_verify which=last_n count=%d: %d backups of %.2f GiB of SQL (%.0f MiB gzipped) each, "
        "median of %d runs, %d cores\n"
        % (len(paths), len(paths), meta["sql_bytes"] / 2**30, compressed / len(paths) / 2**20, args.runs, cores)
    )
    print("| side | wall s | ratio |")
    print("|---|---|---|")
    print("| backup_verify workers=1 (one after another), ansible-playbook | %.2f | 1.00x |" % med["serial"])
    print(
        "| backup_verify workers=%d (as many as cores), ansible-playbook | %.2f | **%.2fx** (goal <= 0.6x) |"
        % (workers, med["parallel"], ratio)
    )
    print(
        "| the same without the Ansible floor | %.2f vs %.2f | %.2fx |"
        % (med["parallel"] - floor_s, med["serial"] - floor_s, net)
    )
    print("| Ansible floor (ping playbook) | %.2f | |" % floor_s)
    if shell:
        print(
            "| shell loop: gzip -t, sha256sum -c, zcat \\| tail \\| grep per file (%d run%s) | %.2f | workers=%d: %.2fx |"
            % (
                len(shell),
                "" if len(shell) == 1 else "s",
                statistics.median(shell),
                workers,
                med["parallel"] / statistics.median(shell),
            )
        )
    print("| in-process, no Ansible: %d threads (map_ordered) | %.2f | |" % (workers, med["threads"]))
    print(
        "| in-process, no Ansible: %d processes (map_in_processes, as the module) | %.2f | |"
        % (workers, med["processes"])
    )
    print(
        "\nThe module's read passes (sum of the gzip check durations; each file's pass is longer when "
        "they share the cores): workers=1 %.1f s, workers=%d %.1f s. Same results both ways "
        "(each backup's checks, sha256 and findings, in order): yes. Page cache: %s of the copies resident "
        "before the runs, %s after.\n"
        % (
            statistics.median(reads["serial"]),
            workers,
            statistics.median(reads["parallel"]),
            "?" if cache_before is None else "%.0f%%" % (100 * cache_before),
            "?" if cache_after is None else "%.0f%%" % (100 * cache_after),
        )
    )

    def mib(kib):
        return kib / 1024.0

    print("| memory (max RSS) | MiB |")
    print("|---|---|")
    print("| module process, workers=1 | %.1f |" % mib(max(rss["serial"])))
    print(
        "| module process, workers=%d (it forks the workers and reads nothing itself) | %.1f |"
        % (workers, mib(max(rss["parallel"])))
    )
    print(
        "| each worker process of the module (the largest; RSS counts the pages shared with the module) "
        "| **%.1f** (goal < 32 per worker) |" % mib(max(rss["module_worker"]))
    )
    print(
        "| the module and its %d workers together (sum of their peaks: an upper bound) | %.1f |"
        % (workers, mib(max(rss["parallel"]) + workers * max(rss["module_worker"])))
    )
    print("| in-process threads child (interpreter + %d readers) | %.1f |" % (workers, mib(max(rss["threads"]))))
    print(
        "| in-process processes: the parent / each worker process | %.1f / %.1f |"
        % (mib(max(rss["processes"])), mib(max(rss["process_worker"])))
    )
    print("\nRuns (s): %s" % json.dumps(dict((k, [round(v, 2) for v in vals]) for k, vals in times.items())))
    print("Shell loop (s): %s" % [round(w, 2) for w in shell])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--min-sql-gib", type=float, default=1.05)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--scenarios", default="single,last_n", help="single, last_n or both (comma-separated)")
    parser.add_argument("--copies", type=int, default=7, help="backups of the last_n scenario")
    parser.add_argument("--workers", type=int, default=0, help="workers of the last_n scenario (0: the cores)")
    parser.add_argument("--shell-runs", type=int, default=1, help="runs of the shell loop of last_n (slow)")
    parser.add_argument("--pool-runs", type=int, default=1, help="runs of the in-process threads/processes comparison")
    parser.add_argument("--keep-copies", action="store_true", help="keep the last_n copies for the next run")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, terminate)
    for tool in ("pigz", "gzip", "zcat", "sha256sum", "/usr/bin/time"):
        if shutil.which(tool) is None:
            raise SystemExit("%s is missing (apt-get install pigz time)" % tool)
    log("load average at start: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    meta = cached(int(args.min_sql_gib * 2**30), args.rebuild)
    scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    try:
        if "single" in scenarios:
            single_scenario(args, meta)
        if "last_n" in scenarios:
            last_n_scenario(args, meta)
    finally:
        if not args.keep_copies:
            shutil.rmtree(LAST_N, ignore_errors=True)
        print("\nLoad average at the end: %s" % " ".join("%.2f" % x for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
