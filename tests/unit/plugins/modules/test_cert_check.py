# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cert_check's main() on real certificate files written to a temporary directory, and its bad input."""
from __future__ import annotations

import datetime

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.stronghold.ops.plugins.modules import cert_check

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def certificate(common_name, days_left, lifetime=90):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW + (days_left - lifetime) * DAY).not_valid_after(NOW + days_left * DAY)
            .sign(key, hashes.SHA256()))


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
    outcome = run_module(cert_check.main, {"files": [cert_files["dir"] + "/*.pem", cert_files["der"], cert_files["junk"]],
                                           "fail_on": "never"})
    assert not outcome.failed
    result = outcome.result
    by_name = dict((r["target"].rsplit("/", 1)[-1], r) for r in result["results"])
    assert {k: v["status"] for k, v in by_name.items()} == {
        "fresh.pem": "ok", "gone.pem": "critical", "soon.pem": "warning", "urgent.pem": "critical",
        "fresh.der": "ok", "junk.crt": "error"}
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


@pytest.mark.parametrize("args, message", [
    ({}, "nothing to check"),
    ({"endpoints": [{"host": "127.0.0.1", "port": 65536}]}, "port 65536 is out of range 1-65535"),
    ({"endpoints": [{"host": "127.0.0.1", "starttls": "ldap"}]}, "value of starttls must be one of"),
    ({"files": ["/x"], "warning_days": 3, "critical_days": 7}, "warning_days (3.0) must not be lower than critical_days (7.0)"),
    ({"files": ["/x"], "total_timeout": 0}, "total_timeout must be a positive number of seconds"),
    ({"endpoints": [{"host": "127.0.0.1", "expected_fingerprint": "nope"}]}, "expected_fingerprint must be a SHA-256 fingerprint"),
])
def test_bad_input_fails_before_any_check(run_module, args, message):
    outcome = run_module(cert_check.main, args)
    assert outcome.failed
    assert message in outcome.result["msg"]
    assert "results" not in outcome.result
