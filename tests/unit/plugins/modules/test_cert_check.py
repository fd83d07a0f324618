# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cert_check's main() on real certificate files written to a temporary directory, and its bad input."""

from __future__ import annotations

import base64
import datetime
import json
import os
import signal
import socket

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.stronghold.ops.plugins.modules import cert_check

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def certificate(common_name, days_left, lifetime=90):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + (days_left - lifetime) * DAY)
        .not_valid_after(NOW + days_left * DAY)
        .sign(key, hashes.SHA256())
    )


@pytest.fixture
def cert_files(tmp_path):
    paths = {}
    for label, days in (("fresh", 80), ("soon", 20), ("urgent", 3), ("gone", -2)):
        path = tmp_path / ("%s.pem" % label)
        path.write_bytes(certificate(label, days).public_bytes(serialization.Encoding.PEM))
        paths[label] = str(path)
    der = tmp_path / "fresh.der"
    der.write_bytes(certificate("fresh-der", 80).public_bytes(serialization.Encoding.DER))
    paths["der"] = str(der)
    junk = tmp_path / "junk.crt"
    junk.write_bytes(b"\x00\x01 not a certificate")
    paths["junk"] = str(junk)
    paths["dir"] = str(tmp_path)
    return paths


def test_files_are_judged_by_days_left(run_module, cert_files):
    outcome = run_module(
        cert_check.main,
        {"files": [cert_files["dir"] + "/*.pem", cert_files["der"], cert_files["junk"]], "fail_on": "never"},
    )
    assert not outcome.failed
    result = outcome.result
    by_name = dict((r["target"].rsplit("/", 1)[-1], r) for r in result["results"])
    assert {k: v["status"] for k, v in by_name.items()} == {
        "fresh.pem": "ok",
        "gone.pem": "critical",
        "soon.pem": "warning",
        "urgent.pem": "critical",
        "fresh.der": "ok",
        "junk.crt": "error",
    }
    assert by_name["junk.crt"]["error_kind"] == "parse"
    assert by_name["soon.pem"]["days_remaining"] == pytest.approx(20, abs=0.01)
    assert result["changed"] is False
    assert result["summary"]["total"] == 6
    assert [f["severity"] for f in result["findings"]][:3] == ["critical"] * 3
    assert result["worst_severity"] == "critical"


def test_fail_on_warning_fails_with_the_results(run_module, cert_files):
    outcome = run_module(cert_check.main, {"files": [cert_files["soon"]], "fail_on": "warning"})
    assert outcome.failed
    assert "1 certificate target(s) at warning or worse" in outcome.result["msg"]
    assert outcome.result["results"][0]["status"] == "warning"
    outcome = run_module(cert_check.main, {"files": [cert_files["soon"]]})
    assert not outcome.failed


@pytest.mark.parametrize(
    "args, message",
    [
        ({}, "nothing to check"),
        ({"endpoints": [{"host": "127.0.0.1", "port": 65536}]}, "port 65536 is out of range 1-65535"),
        ({"endpoints": [{"host": "127.0.0.1", "starttls": "ldap"}]}, "value of starttls must be one of"),
        (
            {"files": ["/x"], "warning_days": 3, "critical_days": 7},
            "warning_days (3.0) must not be lower than critical_days (7.0)",
        ),
        ({"files": ["/x"], "total_timeout": 0}, "total_timeout must be greater than 0"),
        ({"files": ["/x"], "total_timeout": "inf"}, "total_timeout must be a finite number"),
        ({"files": ["/x"], "total_timeout": 1e300}, "total_timeout must be at most 86400"),
        ({"files": ["/x"], "timeout": "nan"}, "timeout must be a finite number"),
        ({"files": ["/x"], "timeout": 1e12}, "timeout must be at most 3600"),
        ({"endpoints": [{"host": "127.0.0.1", "timeout": "nan"}]}, "endpoints[0].timeout must be a finite number"),
        ({"endpoints": [{"host": "127.0.0.1", "timeout": 1e300}]}, "endpoints[0].timeout must be at most 3600"),
        ({"files": ["/x"], "warning_days": "nan"}, "warning_days must be a finite number"),
        ({"files": ["/x"], "critical_days": "nan"}, "critical_days must be a finite number"),
        ({"files": ["/x"], "warning_days": "inf"}, "warning_days must be a finite number"),
        ({"files": ["/x"], "warning_days": 1e9}, "warning_days must be at most 36500"),
        ({"files": ["/x"], "min_remaining_fraction": "nan"}, "min_remaining_fraction must be a finite number"),
        ({"files": ["/x"], "max_validity_days": "inf"}, "max_validity_days must be a finite number"),
        (
            {"endpoints": [{"host": "127.0.0.1", "expected_fingerprint": "nope"}]},
            "expected_fingerprint must be a SHA-256 fingerprint",
        ),
    ],
)
def test_bad_input_fails_before_any_check(run_module, args, message):
    outcome = run_module(cert_check.main, args)
    assert outcome.failed
    assert message in outcome.result["msg"]
    assert "results" not in outcome.result


# --- what a file holds, and files that are not files ---------------------------------------


@pytest.fixture
def no_hang():
    """Turn a read that blocks (a FIFO opened for reading) into a test failure instead of a hung run."""

    def expire(signum, frame):
        raise AssertionError("the module blocked reading a file")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def key_files(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    cert_pem = certificate("combined", 80).public_bytes(serialization.Encoding.PEM)
    other_pem = certificate("after-the-cut", 60).public_bytes(serialization.Encoding.PEM)
    files = {
        "key.pem": key_pem,
        "haproxy.pem": cert_pem + key_pem,
        "cut.pem": b"\n".join(cert_pem.splitlines()[:4]) + b"\n" + other_pem,
        "key.der": key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    secrets = [line[:24].decode() for line in key_pem.splitlines() if not line.startswith(b"-----")]
    secrets.append(base64.b64encode(files["key.der"])[64:100].decode())
    return str(tmp_path), secrets


def test_key_only_combined_and_cut_files(run_module, key_files):
    directory, secrets = key_files
    outcome = run_module(
        cert_check.main, {"files": [directory + "/*.pem", directory + "/key.der"], "fail_on": "warning"}
    )
    assert outcome.failed  # the key-only files are errors, and the task fails with them
    by_name = dict((r["target"].rsplit("/", 1)[-1], r) for r in outcome.result["results"])
    key = by_name["key.pem"]
    assert key["status"] == "error" and key["error_kind"] == "parse" and key["private_key"] is True
    assert (
        key["error"]
        == "%s/key.pem holds no certificate: PEM block 1 at line 1 (RSA PRIVATE KEY) is a private key (RSA 2048)"
        % directory
    )
    assert (
        by_name["key.der"]["error"]
        == "%s/key.der holds no certificate: the DER data is a private key (RSA 2048)" % directory
    )
    combined = by_name["haproxy.pem"]
    assert combined["status"] == "ok" and combined["certificates"] == 1 and combined["private_key"] is True
    assert combined["chain"][0]["subject"] == "CN=combined"
    assert [b["content"] for b in combined["blocks"]] == ["certificate", "private_key"]
    finding = [f for f in outcome.result["findings"] if f["target"].endswith("haproxy.pem")][0]
    assert finding["summary"].endswith(
        "; also in the file: PEM block 2 at line %d (RSA PRIVATE KEY) is a private key (RSA 2048)"
        % combined["blocks"][1]["line"]
    )
    assert finding["details"]["private_key"] is True
    cut = by_name["cut.pem"]
    assert cut["status"] == "critical" and cut["certificates"] == 1
    assert cut["chain"][0]["subject"] == "CN=after-the-cut"
    assert (
        cut["reasons"][0] == "PEM block 1 at line 1 (CERTIFICATE) is cut: no END line before the next BEGIN at line 5"
    )
    everything = json.dumps(outcome.result)
    assert [s for s in secrets if s in everything] == []


def test_special_files_read_the_same_named_or_globbed(run_module, tmp_path, no_hang):
    os.mkfifo(str(tmp_path / "fifo.pem"))
    (tmp_path / "dir.pem").mkdir()
    (tmp_path / "dangling.pem").symlink_to(tmp_path / "gone.pem")
    (tmp_path / "null.pem").symlink_to("/dev/null")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(tmp_path / "sock.pem"))
    try:
        names = ["fifo.pem", "dir.pem", "dangling.pem", "null.pem", "sock.pem"]
        named = run_module(cert_check.main, {"files": [str(tmp_path / n) for n in names], "fail_on": "never"})
        globbed = run_module(cert_check.main, {"files": [str(tmp_path / "*.pem")], "fail_on": "never"})
    finally:
        server.close()
    direct = dict((r["path"], (r["status"], r["error_kind"], r["error"])) for r in named.result["results"])
    found = dict((r["path"], (r["status"], r["error_kind"], r["error"])) for r in globbed.result["results"])
    assert found == direct
    assert direct[str(tmp_path / "fifo.pem")] == (
        "error",
        "file",
        "%s/fifo.pem is a FIFO (named pipe), not a regular file: not read" % tmp_path,
    )
    assert direct[str(tmp_path / "dir.pem")][2] == "%s/dir.pem is a directory, not a regular file: not read" % tmp_path
    assert (
        direct[str(tmp_path / "null.pem")][2]
        == "%s/null.pem is a character device, not a regular file: not read" % tmp_path
    )
    assert direct[str(tmp_path / "sock.pem")][2] == "%s/sock.pem is a socket, not a regular file: not read" % tmp_path
    assert direct[str(tmp_path / "dangling.pem")][
        2
    ] == "%s/dangling.pem is a dangling symbolic link (to %s/gone.pem): not read" % (tmp_path, tmp_path)


def test_a_fifo_as_ca_path_fails_cleanly(run_module, tmp_path, no_hang):
    os.mkfifo(str(tmp_path / "ca.pem"))
    outcome = run_module(cert_check.main, {"files": ["/nonexistent.pem"], "ca_path": str(tmp_path / "ca.pem")})
    assert outcome.failed
    assert outcome.result["msg"] == "ca_path: %s/ca.pem is a FIFO (named pipe), not a regular file: not read" % tmp_path


def test_an_empty_files_entry_is_refused(run_module):
    outcome = run_module(cert_check.main, {"files": ["/etc/ssl/a.pem", ""]})
    assert outcome.failed
    assert outcome.result["msg"] == "files[1] is empty: give a file path or a glob pattern"


def test_fail_on_info_is_accepted_and_fails_from_info_up(run_module, cert_files):
    outcome = run_module(cert_check.main, {"files": [cert_files["fresh"]], "fail_on": "info"})
    assert not outcome.failed and outcome.result["worst_severity"] == "ok"
    outcome = run_module(cert_check.main, {"files": [cert_files["soon"]], "fail_on": "info"})
    assert outcome.failed
    assert "1 certificate target(s) at info or worse" in outcome.result["msg"]
    assert outcome.result["findings"][0]["severity"] == "warning"


@pytest.mark.parametrize("value", [10, 2.5, "10", "10s", "500ms", "1m"])
def test_timeouts_take_seconds_or_durations(run_module, cert_files, value):
    outcome = run_module(
        cert_check.main,
        {
            "files": [cert_files["fresh"]],
            "endpoints": [{"host": "127.0.0.1", "port": 1, "timeout": value}],
            "timeout": value,
            "total_timeout": value,
            "fail_on": "never",
        },
    )
    assert not outcome.failed
    assert [r["status"] for r in outcome.result["results"]] == ["error", "ok"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"timeout": -1}, "timeout must be greater than 0, got -1"),
        ({"timeout": "abc"}, "timeout: cannot read 'abc' as a duration"),
        ({"total_timeout": "-5m"}, "total_timeout: cannot read '-5m' as a duration"),
        ({"total_timeout": "2d"}, "total_timeout must be at most 86400"),
        ({"endpoints": [{"host": "127.0.0.1", "timeout": "soon"}]}, "endpoints[0].timeout: cannot read 'soon'"),
    ],
)
def test_bad_durations_fail_clearly(run_module, args, message):
    outcome = run_module(cert_check.main, dict({"files": ["/x"]}, **args))
    assert outcome.failed
    assert message in outcome.result["msg"]
    assert "results" not in outcome.result
