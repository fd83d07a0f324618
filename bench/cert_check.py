#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cert_check versus community.crypto.get_certificate and a serial `openssl s_client` loop, over N endpoints.

The bench starts N TLS endpoints (--endpoints, default 200) on 127.0.0.1:19000 and up, all
served by one child process: one thread accepts on every port, a pool of threads does the
handshakes in blocking mode (in OpenSSL, outside the GIL; no session tickets). Its CPU time is
measured around every side and reported: it shares the 2 CPUs with the side being timed. A
throwaway PKI (cryptography, ECDSA P-256, key identifiers as real CAs set them) signs one leaf
per port (SAN localhost and 127.0.0.1) under an intermediate that outlives them; the leaves
expire 5 to 5 + 2(N-1) days from now, so every endpoint has its own expiry figure. The child
process and the PKI directory are removed at the end, also on Ctrl-C or a failure.

The sides, as a user would run them (--sides; default all three up to 200 endpoints, cert_check
and openssl above):

  A. cert_check: `ansible-playbook` on a playbook (localhost, connection local, gather_facts off,
     the repository's ansible.cfg) with ONE stronghold.ops.cert_check task over the N endpoints
     (server_name localhost, ca_path the bench's root, default concurrency and processes,
     result_details --result-details, default problems), then a debug task that shows
     {port: [not_after, days_remaining]} and the module's timings.
  A'. the same module with the same arguments as one process without Ansible (`python -m`), for
     the size of its JSON result and its wall time outside Ansible.
  B. get_certificate: the same kind of playbook with community.crypto.get_certificate looped
     over the ports (N module runs: the module takes one host), then a debug task that computes
     the days left from each not_after with to_datetime, as the module's EXAMPLES do; about
     110 s for 200 endpoints, so --get-certificate-runs can run it fewer times than the others.
  C. openssl: one bash loop, one endpoint after the other:
     `openssl s_client -connect 127.0.0.1:PORT -servername localhost </dev/null | openssl x509
     -noout -enddate`, and `date` to turn notAfter into seconds left.
  F. Ansible's floor: a ping playbook (ping, register, debug).

Each run runs every side once, in an order rotated from run to run so that machine noise hits
all alike; the result is the ratio of the median wall times. The bench checks that every side
reports the same not_after for every port, and days left that agree (within the time between
the sides), and shows where cert_check's wall time goes (floor, module start-up, imports,
setup, checks, result, Ansible beyond its floor). Goals: A at least 50x faster than B at 200
endpoints; at least 20x faster than C at 1000 endpoints (10x below 1000). Nothing here asserts
a time: the bench reports, in Markdown, and exits 0 when it could measure.

    .venv/bin/python bench/cert_check.py --endpoints 1000 --runs 3                  # vs openssl
    .venv/bin/python bench/cert_check.py --endpoints 200 --runs 3 --get-certificate-runs 2
    (after make venv collection-link)
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import playbook_env, timed_playbook
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOST, FIRST_PORT = "127.0.0.1", 19000
DAY = datetime.timedelta(days=1)


def log(message):
    print(message, file=sys.stderr, flush=True)


def terminate(signum, frame):
    raise SystemExit(128 + signum)


# --- the endpoints -----------------------------------------------------------------------


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _cert(subject, key, issuer, issuer_key, start, end, ca, sans=None):
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(root_dir, count):
    """ca.pem, and DIR/PORT.pem (leaf + intermediate) with DIR/leaf.key for each port."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    root_key, int_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for dummy in range(3))
    root = _cert("Bench Root", root_key, "Bench Root", root_key, now - 10 * DAY, now + 3650 * DAY, True)
    # The leaves expire first (5 + 2i days, up to 2003 days for 1000 endpoints): every side reports the leaf's date.
    inter = _cert("Bench Intermediate", int_key, "Bench Root", root_key, now - 10 * DAY, now + 3000 * DAY, True)
    with open(os.path.join(root_dir, "ca.pem"), "wb") as handle:
        handle.write(root.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(root_dir, "leaf.key"), "wb") as handle:
        handle.write(
            leaf_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    sans = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
    expected = {}
    for i in range(count):
        port = FIRST_PORT + i
        leaf = _cert(
            "localhost", leaf_key, "Bench Intermediate", int_key, now - DAY, now + (5 + 2 * i) * DAY, False, sans
        )
        with open(os.path.join(root_dir, "%d.pem" % port), "wb") as handle:
            handle.write(leaf.public_bytes(serialization.Encoding.PEM) + inter.public_bytes(serialization.Encoding.PEM))
        expected[port] = leaf.not_valid_after_utc
    return expected


def serve(root_dir, count):
    """The child process: one thread accepts on every port (a selector over the listening
    sockets), a pool of threads does each TLS handshake in blocking mode (in OpenSSL, without
    the GIL), reads until the client closes, and closes: less CPU than asyncio's SSL protocol,
    which matters, since the server shares the 2 CPUs with the sides (the bench reports its CPU)."""
    import concurrent.futures
    import selectors

    def handle(conn, context):
        try:
            conn.settimeout(10)
            with context.wrap_socket(conn, server_side=True) as tls:
                while tls.recv(4096):
                    pass
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    selector = selectors.DefaultSelector()
    for i in range(count):
        port = FIRST_PORT + i
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(root_dir, "%d.pem" % port), os.path.join(root_dir, "leaf.key"))
        context.num_tickets = 0  # no TLS 1.3 session tickets: no client of the bench resumes
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(256)
        listener.setblocking(False)
        selector.register(listener, selectors.EVENT_READ, context)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=64)
    with open(os.path.join(root_dir, "ready"), "w") as handle_file:
        handle_file.write("ok\n")
    while True:
        for key, dummy in selector.select():
            try:
                conn, dummy = key.fileobj.accept()
            except (BlockingIOError, InterruptedError):
                continue
            conn.setblocking(True)
            pool.submit(handle, conn, key.data)


class Endpoints:
    """The child process serving every port, stopped and removed on exit whatever happens."""

    def __init__(self, count):
        self.count = count
        self.root = None
        self.child = None

    def __enter__(self):
        for i in range(self.count):
            with socket.socket() as probe:
                if probe.connect_ex((HOST, FIRST_PORT + i)) == 0:
                    raise SystemExit(
                        "%s:%d is in use; the bench needs ports %d-%d"
                        % (HOST, FIRST_PORT + i, FIRST_PORT, FIRST_PORT + self.count - 1)
                    )
        self.root = tempfile.mkdtemp(prefix="stronghold-bench-cert_check-")
        self.expected = make_pki(self.root, self.count)
        self.child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--serve", self.root, "--endpoints", str(self.count)],
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not os.path.exists(os.path.join(self.root, "ready")):
            if self.child.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the TLS endpoints did not start")
            time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the clean-up
        try:
            if self.child is not None and self.child.poll() is None:
                self.child.terminate()
                try:
                    self.child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.child.kill()
                    self.child.wait()
        finally:
            if self.root:
                shutil.rmtree(self.root, ignore_errors=True)
            signal.signal(signal.SIGINT, signal.default_int_handler)
        return False


# --- the three sides ---------------------------------------------------------------------


class Ansible:
    def __init__(self, workdir):
        self.workdir = workdir
        self.env = playbook_env()

    def playbook(self, name, tasks):
        path = os.path.join(self.workdir, name + ".yml")
        play = [
            {
                "name": name,
                "hosts": "localhost",
                "connection": "local",
                "gather_facts": False,
                "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
                "tasks": tasks,
            }
        ]
        with open(path, "w") as handle:
            json.dump(play, handle, indent=1)  # JSON is YAML
        return path

    def run(self, path):
        wall, shown = timed_playbook(path, REPO, self.env)
        return wall, shown["msg"]


def cert_check_tasks(ports, ca_path, details="full"):
    endpoints = [{"host": HOST, "port": port, "server_name": "localhost"} for port in ports]
    options = {"endpoints": endpoints, "ca_path": ca_path, "fail_on": "never", "result_details": details}
    return [
        {
            "name": "cert_check over every endpoint",
            "stronghold.ops.cert_check": options,
            "register": "certs",
        },
        {
            "name": "show",
            "ansible.builtin.debug": {
                "msg": {
                    "duration_ms": "{{ certs.summary.duration_ms }}",
                    "timings": "{{ certs.timings }}",
                    "days": "{{ dict(certs.results | map(attribute='port') | map('string') | zip(certs.results | map(attribute='not_after')"
                    " | zip(certs.results | map(attribute='days_remaining')))) }}",
                }
            },
        },
    ]


def get_certificate_tasks(ports):
    days = (
        "{% set ns = namespace(out={}) %}{% for r in certs.results %}"
        "{% set ns.out = ns.out | combine({r.item | string: [r.not_after, "
        "((r.not_after | to_datetime('%Y%m%d%H%M%SZ')) - (now(utc=true).replace(tzinfo=None))).total_seconds() / 86400]}) %}"
        "{% endfor %}{{ ns.out }}"
    )
    return [
        {
            "name": "get_certificate of each endpoint",
            "community.crypto.get_certificate": {"host": HOST, "port": "{{ item }}", "server_name": "localhost"},
            "loop": list(ports),
            "register": "certs",
        },
        {"name": "show", "ansible.builtin.debug": {"msg": {"days": days}}},
    ]


OPENSSL_LOOP = r"""
now=$(date +%s)
for port in $(seq {first} {last}); do
  end=$(openssl s_client -connect 127.0.0.1:$port -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -enddate)
  end=${{end#notAfter=}}
  echo "$port|$end|$(( $(date -d "$end" +%s) - $(date +%s) ))"
done
"""


def run_openssl(ports):
    script = OPENSSL_LOOP.format(first=ports[0], last=ports[-1])
    start = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False
    )
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit("the openssl loop failed (rc %d): %s" % (done.returncode, done.stderr[-2000:]))
    figures = {}
    for line in done.stdout.splitlines():
        port, end, seconds = line.split("|")
        when = datetime.datetime.strptime(end, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=datetime.timezone.utc)
        figures[int(port)] = (when, int(seconds) / 86400.0)
    return wall, figures


def parse_cert_check(shown):
    out = {}
    for port, (not_after, days) in shown["days"].items():
        out[int(port)] = (
            datetime.datetime.strptime(not_after, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc),
            float(days),
        )
    return out


def parse_get_certificate(shown):
    out = {}
    for port, (not_after, days) in shown["days"].items():
        out[int(port)] = (
            datetime.datetime.strptime(not_after, "%Y%m%d%H%M%SZ").replace(tzinfo=datetime.timezone.utc),
            float(days),
        )
    return out


def compare(expected, sides):
    """(ports whose not_after differs on some side, largest days_remaining difference between sides)."""
    wrong = set()
    spread = 0.0
    for port, not_after in expected.items():
        figures = [side.get(port) for side in sides]
        if any(f is None or f[0] != not_after for f in figures):
            wrong.add(port)
            continue
        days = [f[1] for f in figures]
        spread = max(spread, max(days) - min(days))
    return sorted(wrong), spread


def load_after():
    """The 1-minute load average: other work on the machine slows the long serial sides most."""
    try:
        with open("/proc/loadavg") as handle:
            return handle.read().split()[0]
    except OSError:
        return "unknown"


def cpu_of(pid):
    """CPU seconds (user + system, every thread) of a running process."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu():
    times = os.times()
    return times.children_user + times.children_system


def module_alone(args_path):
    """The module run as one process outside Ansible, as Ansible's local connection starts it:
    (wall seconds, bytes of its JSON result, the result)."""
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, ".build", "collections"))
    command = [sys.executable, "-m", "ansible_collections.stronghold.ops.plugins.modules.cert_check", args_path]
    start = time.monotonic()
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit("cert_check alone failed (rc %d): %s" % (done.returncode, done.stdout[-2000:]))
    return wall, len(done.stdout), json.loads(done.stdout)


def med(values):
    return statistics.median(values) if values else float("nan")


def listed(values, form="%.2f"):
    return ", ".join(form % v for v in values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--endpoints", type=int, default=200)
    parser.add_argument(
        "--sides",
        default=None,
        help="comma-separated, of cert_check,get_certificate,openssl (default: all three up to 200 endpoints, "
        "cert_check,openssl above)",
    )
    parser.add_argument(
        "--get-certificate-runs", type=int, default=None, help="runs of the get_certificate side (default --runs)"
    )
    parser.add_argument(
        "--result-details",
        choices=["full", "problems"],
        default="problems",
        help="cert_check's result_details (default problems: the chain of ok endpoints left out)",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.endpoints)
        return
    sides = (
        args.sides or ("cert_check,get_certificate,openssl" if args.endpoints <= 200 else "cert_check,openssl")
    ).split(",")
    if "cert_check" not in sides or not set(sides) <= {"cert_check", "get_certificate", "openssl"}:
        raise SystemExit("--sides: cert_check and any of get_certificate, openssl")
    gc_runs = args.runs if args.get_certificate_runs is None else args.get_certificate_runs
    openssl_goal = 20 if args.endpoints >= 1000 else 10
    signal.signal(signal.SIGTERM, terminate)
    load_before = load_after()
    ports = list(range(FIRST_PORT, FIRST_PORT + args.endpoints))
    with (
        Endpoints(args.endpoints) as endpoints,
        tempfile.TemporaryDirectory(prefix="stronghold-bench-cert_check-books-") as books,
    ):
        ansible = Ansible(books)
        ca_path = os.path.join(endpoints.root, "ca.pem")
        tasks_a = cert_check_tasks(ports, ca_path, args.result_details)
        book_a = ansible.playbook("cert_check", tasks_a)
        book_b = ansible.playbook("get_certificate", get_certificate_tasks(ports))
        book_ping = ansible.playbook(
            "ping",
            [
                {"name": "ping", "ansible.builtin.ping": {}, "register": "pong"},
                {"name": "show", "ansible.builtin.debug": {"msg": "{{ pong }}"}},
            ],
        )
        args_path = os.path.join(books, "cert_check_args.json")
        with open(args_path, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": tasks_a[0]["stronghold.ops.cert_check"]}, handle)
        walls = dict((key, []) for key in ("cert_check", "get_certificate", "openssl", "ping", "alone"))
        cpu = dict((key, []) for key in walls)
        server = dict((key, []) for key in walls)
        timings, sizes = [], []
        checks = []

        def measure(key, call):
            server_before, client_before = cpu_of(endpoints.child.pid), children_cpu()
            out = call()
            server[key].append(cpu_of(endpoints.child.pid) - server_before)
            cpu[key].append(children_cpu() - client_before)
            walls[key].append(out[0])
            return out

        order = ["cert_check", "alone"] + [s for s in sides if s != "cert_check"] + ["ping"]
        for run in range(args.runs):
            figures = {}
            shift = run % len(order)
            for side in order[shift:] + order[:shift]:
                if side == "cert_check":
                    shown_a = measure(side, lambda: ansible.run(book_a))[1]
                    timings.append(shown_a["timings"])
                    figures[side] = parse_cert_check(shown_a)
                elif side == "alone":
                    dummy, size, result = measure(side, lambda: module_alone(args_path))
                    sizes.append(size)
                    figures[side] = dict(
                        (
                            r["port"],
                            (
                                datetime.datetime.strptime(r["not_after"], "%Y-%m-%dT%H:%M:%SZ").replace(
                                    tzinfo=datetime.timezone.utc
                                ),
                                r["days_remaining"],
                            ),
                        )
                        for r in result["results"]
                    )
                elif side == "get_certificate":
                    if run < gc_runs:
                        figures[side] = parse_get_certificate(measure(side, lambda: ansible.run(book_b))[1])
                elif side == "openssl":
                    figures[side] = measure(side, lambda: run_openssl(ports))[1]
                else:
                    measure(side, lambda: ansible.run(book_ping))
            wrong, spread = compare(endpoints.expected, list(figures.values()))
            checks.append((wrong, spread, len(figures)))
            log(
                "run %d: %s; not_after differs on %d port(s) across %d sides, days_remaining spread %.4f days"
                % (
                    run + 1,
                    ", ".join(
                        "%s %.2f s (server CPU %.2f s)" % (k, walls[k][-1], server[k][-1])
                        for k in order
                        if k != "get_certificate" or run < gc_runs
                    ),
                    len(wrong),
                    len(figures),
                    spread,
                )
            )
    report(args, sides, gc_runs, openssl_goal, walls, cpu, server, timings, sizes, checks, load_before)


def report(args, sides, gc_runs, openssl_goal, walls, cpu, server, timings, sizes, checks, load_before):
    m = dict((key, med(values)) for key, values in walls.items())
    t = dict(
        (key, med([float(x[key]) for x in timings]))
        for key in ("startup_ms", "imports_ms", "setup_ms", "checks_ms", "output_ms")
    )
    print(
        "## cert_check: %d TLS endpoints on 127.0.0.1 (median of %d runs; result_details: %s)\n"
        % (args.endpoints, args.runs, args.result_details)
    )
    print("| side | wall time (median) | runs | cert_check faster by | goal | client CPU | server CPU |")
    print("|---|---|---|---|---|---|---|")
    print(
        "| cert_check, one task (ansible-playbook) | %.2f s | %s | | | %.2f s | %.2f s |"
        % (m["cert_check"], listed(walls["cert_check"]), med(cpu["cert_check"]), med(server["cert_check"]))
    )
    goals = {"get_certificate": 50, "openssl": openssl_goal}
    names = {
        "get_certificate": "community.crypto.get_certificate, %d tasks (loop, %d runs)" % (args.endpoints, gc_runs),
        "openssl": "serial `openssl s_client` loop (bash)",
    }
    for side in ("get_certificate", "openssl"):
        if side not in sides:
            continue
        ratio = m[side] / m["cert_check"]
        print(
            "| %s | %.2f s | %s | %.1fx | %dx %s | %.2f s | %.2f s |"
            % (
                names[side],
                m[side],
                listed(walls[side]),
                ratio,
                goals[side],
                "met" if ratio >= goals[side] else "NOT met",
                med(cpu[side]),
                med(server[side]),
            )
        )
    print(
        "| ansible-playbook floor (ping, register, debug) | %.2f s | %s | | | %.2f s | |"
        % (m["ping"], listed(walls["ping"]), med(cpu["ping"]))
    )
    print(
        "| cert_check module alone (one process, no Ansible) | %.2f s | %s | | | %.2f s | %.2f s |"
        % (m["alone"], listed(walls["alone"]), med(cpu["alone"]), med(server["alone"]))
    )
    print()
    # Ansible beyond its floor, run by run (each run's playbook, floor and module timings), then the median.
    beyond = [
        wall
        - floor
        - sum(float(x[k]) for k in ("startup_ms", "imports_ms", "setup_ms", "checks_ms", "output_ms")) / 1000.0
        for wall, floor, x in zip(walls["cert_check"], walls["ping"], timings)
    ]
    print(
        "- Where cert_check's wall goes (medians): Ansible's floor %.2f s; the module's process: start-up %.0f ms, "
        "imports %.0f ms, arguments/options/trust store %.0f ms, checks %.0f ms (%s processes, threads %s), findings and "
        "summary %.0f ms; its JSON result %.0f KiB (%.1f KiB per endpoint); the rest, %.2f s (median of the runs' "
        "playbook - floor - module), is Ansible beyond its floor (sending the module, reading and registering the "
        "result, the debug task over every endpoint). "
        "Outside the checks altogether: %.2f s of %.2f s."
        % (
            m["ping"],
            t["startup_ms"],
            t["imports_ms"],
            t["setup_ms"],
            t["checks_ms"],
            timings[-1]["processes"],
            timings[-1]["threads"],
            t["output_ms"],
            med(sizes) / 1024.0,
            med(sizes) / 1024.0 / args.endpoints,
            med(beyond),
            m["cert_check"] - t["checks_ms"] / 1000.0,
            m["cert_check"],
        )
    )
    for side in ("get_certificate", "openssl"):
        if side in sides:
            need = m[side] / goals[side]
            print(
                "- %dx against %s needs cert_check's whole playbook in %.2f s: the floor (%.2f s) leaves %.2f s "
                "for the module and its result (measured: %.2f s)."
                % (goals[side], side, need, m["ping"], need - m["ping"], m["cert_check"] - m["ping"])
            )
    for side in ("get_certificate", "openssl"):
        if side in sides:
            print(
                "- Ratios run by run against %s: %s."
                % (side, ", ".join("%.1fx" % (b / a) for a, b in zip(walls["cert_check"], walls[side])))
            )
    print(
        "- Server (one process serving every port) CPU per side and run: cert_check %s s, openssl loop %s s: "
        "%.2f ms per handshake for cert_check."
        % (
            listed(server["cert_check"]),
            listed(server["openssl"]) if "openssl" in sides else "-",
            med(server["cert_check"]) / args.endpoints * 1000.0,
        )
    )
    print("- Load average before and after: %s / %s." % (load_before, load_after()))
    wrong_total = sorted(set(p for wrong, dummy, dummy2 in checks for p in wrong))
    print(
        "- Same expiry figures: not_after identical on every side (%s, and the module alone) for %d of %d ports in "
        "every run; largest days_remaining difference between the sides: %.4f days (the time between them)."
        % (", ".join(sides), args.endpoints - len(wrong_total), args.endpoints, max(s for dummy, s, dummy2 in checks))
    )
    if wrong_total:
        print("- Ports with differing not_after: %s" % ", ".join(str(p) for p in wrong_total[:20]))


if __name__ == "__main__":
    main()
