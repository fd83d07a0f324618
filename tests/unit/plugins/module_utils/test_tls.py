# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure logic of cert_check: thresholds, hostname patterns, chain shape, the verdict."""
from __future__ import annotations

import datetime

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ansible_collections.stronghold.ops.plugins.module_utils._tls import (
    chain_problems,
    check_thresholds,
    expiry_severity,
    hostname_matches,
    judge_certificate,
    judge_chain,
    normalize_fingerprint,
    summarize,
    summary_line,
    verification_time,
    weak_key_reason,
)

NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
OPTIONS = {"warning_days": 25, "critical_days": 7}


# --- thresholds ------------------------------------------------------------------------

@pytest.mark.parametrize("days, lifetime, expected", [
    (60.0, 90.0, "ok"),
    (25.0, 90.0, "ok"),        # strictly below reaches a threshold
    (24.99, 90.0, "warning"),
    (7.0, 90.0, "warning"),
    (6.99, 90.0, "critical"),
    (0.0, 90.0, "critical"),
    (-0.01, 90.0, "critical"),
])
def test_expiry_severity_by_days(days, lifetime, expected):
    assert expiry_severity(days, lifetime, 25, 7)[0] == expected


def test_expired_is_critical_whatever_the_thresholds():
    severity, reason = expiry_severity(-3.5, 90, 0, 0)
    assert severity == "critical"
    assert reason == "expired 3.5 days ago"


def test_fraction_of_lifetime_for_short_lived_certificates():
    # A 6-day certificate with 1.5 days left: 25% of its lifetime.
    assert expiry_severity(1.5, 6, 0, 0, min_fraction=0.33)[0] == "warning"
    assert expiry_severity(1.5, 6, 0, 0, min_fraction=0.33, critical_fraction=0.3)[0] == "critical"
    assert expiry_severity(3.0, 6, 0, 0, min_fraction=0.33, critical_fraction=0.1)[0] == "ok"
    reason = expiry_severity(1.5, 6, 0, 0, min_fraction=0.33)[1]
    assert "25% of its 6-day lifetime left (warning threshold 33%)" in reason


def test_the_worse_of_days_and_fraction_wins():
    # 20 days left of 400: 5% left, under a 10% critical fraction, although 20 days only warns.
    assert expiry_severity(20, 400, 25, 7, min_fraction=0.2, critical_fraction=0.1)[0] == "critical"


@pytest.mark.parametrize("args, message", [
    ((5, 7), "warning_days (5) must not be lower than critical_days (7)"),
    ((-1, 0), "warning_days must be a number of days >= 0"),
    ((25, -1), "critical_days must be a number of days >= 0"),
    ((25, 7, 1.0), "min_remaining_fraction must lie between 0 and 1"),
    ((25, 7, None, 0), "critical_remaining_fraction must lie between 0 and 1"),
    ((25, 7, 0.1, 0.2), "min_remaining_fraction (0.1) must not be lower than critical_remaining_fraction (0.2)"),
])
def test_inconsistent_thresholds_are_refused(args, message):
    assert message in check_thresholds(*args)


def test_consistent_thresholds_pass():
    assert check_thresholds(25, 7) is None
    assert check_thresholds(7, 7) is None
    assert check_thresholds(0, 0, 0.33, 0.1) is None


# --- hostname --------------------------------------------------------------------------

@pytest.mark.parametrize("hostname, dns, ips, expected", [
    ("www.example.com", ["www.example.com"], [], True),
    ("WWW.Example.com.", ["www.example.com"], [], True),
    ("a.example.com", ["*.example.com"], [], True),
    ("example.com", ["*.example.com"], [], False),        # a wildcard needs a label
    ("a.b.example.com", ["*.example.com"], [], False),    # and only one
    ("a.example.com", ["a*.example.com"], [], False),     # partial wildcards are not honoured
    ("127.0.0.1", ["127.0.0.1"], [], False),              # an address matches only iPAddress entries
    ("127.0.0.1", [], ["127.0.0.1"], True),
    ("::1", [], ["0:0:0:0:0:0:0:1"], True),
    ("other.example.com", ["www.example.com"], ["10.0.0.1"], False),
])
def test_hostname_matches(hostname, dns, ips, expected):
    assert hostname_matches(hostname, dns, ips) is expected


# --- chain shape -----------------------------------------------------------------------

def entry(subject, issuer, issued_by_next=False):
    return {"subject": subject, "issuer": issuer, "self_signed": subject == issuer, "issued_by_next": issued_by_next}


def test_chain_in_order_and_complete():
    chain = [entry("CN=leaf", "CN=int", True), entry("CN=int", "CN=root")]
    assert chain_problems(chain, {"CN=root"}) == (True, True, [])


def test_chain_out_of_order():
    chain = [entry("CN=leaf", "CN=int"), entry("CN=root", "CN=root"), entry("CN=int", "CN=root")]
    complete, in_order, reasons = chain_problems(chain, {"CN=root"})
    assert complete and not in_order
    assert reasons == ["chain out of order: certificate 0 (CN=leaf) is not followed by its issuer (CN=int)"]


def test_chain_with_an_unrelated_certificate():
    chain = [entry("CN=leaf", "CN=int"), entry("CN=other", "CN=root")]
    complete, in_order, reasons = chain_problems(chain, {"CN=root"})
    assert not in_order
    assert not complete  # CN=int is nowhere
    assert "is followed by CN=other, which did not issue it" in reasons[0]


def test_chain_incomplete_when_the_intermediate_is_missing():
    complete, in_order, reasons = chain_problems([entry("CN=leaf", "CN=int")], {"CN=root"})
    assert not complete and in_order
    assert reasons == ["chain incomplete: the issuer of CN=leaf (CN=int) was not sent and is not a trusted root"]


def test_a_leaf_issued_by_a_trusted_root_directly_is_complete():
    assert chain_problems([entry("CN=leaf", "CN=root")], {"CN=root"})[0]


# --- one certificate -------------------------------------------------------------------

@pytest.mark.parametrize("key_type, bits, weak", [
    ("RSA", 1024, True), ("RSA", 2048, False), ("EC", 224, True), ("EC", 256, False), ("DSA", 2048, True), ("Ed25519", 256, False),
])
def test_weak_keys(key_type, bits, weak):
    assert (weak_key_reason(key_type, bits) is not None) is weak


def info(**overrides):
    base = {"not_yet_valid": False, "not_before": "2026-01-01T00:00:00Z", "days_remaining": 60.0, "lifetime_days": 90.0,
            "key_type": "RSA", "key_bits": 2048, "signature_hash": "sha256", "signature_algorithm": "sha256WithRSAEncryption",
            "self_signed": False, "is_ca": False}
    base.update(overrides)
    return base


def test_judge_certificate_collects_every_reason():
    severity, reasons = judge_certificate(info(days_remaining=20.0, key_bits=1024, signature_hash="sha1",
                                               signature_algorithm="sha1WithRSAEncryption"), OPTIONS)
    assert severity == "critical"
    assert reasons == ["expires in 20.0 days (warning threshold 25 days)", "weak key: RSA 1024 bits (minimum 2048)",
                       "weak signature: SHA1 (sha1WithRSAEncryption)"]


def test_a_self_signed_root_with_sha1_is_not_blamed_for_its_own_signature():
    assert judge_certificate(info(self_signed=True, is_ca=True, signature_hash="sha1"), OPTIONS) == ("ok", [])


def test_not_yet_valid_is_critical():
    severity, reasons = judge_certificate(info(not_yet_valid=True, not_before="2027-01-01T00:00:00Z"), OPTIONS)
    assert severity == "critical"
    assert reasons == ["not yet valid (valid from 2027-01-01T00:00:00Z)"]


def test_max_validity_applies_to_leaves_only():
    options = dict(OPTIONS, max_validity_days=398)
    assert judge_certificate(info(lifetime_days=825.0), options)[0] == "warning"
    assert judge_certificate(info(lifetime_days=825.0, is_ca=True), options)[0] == "ok"


def test_normalize_fingerprint():
    hexa = "ab" * 32
    assert normalize_fingerprint(":".join(["AB"] * 32)) == hexa
    assert normalize_fingerprint(hexa.upper()) == hexa
    assert normalize_fingerprint("AB:CD") is None
    assert normalize_fingerprint("zz" * 32) is None


# --- whole chains, built in memory (no network) ----------------------------------------

def make_cert(subject, issuer_name, issuer_key, key, start, end, ca=False, sans=None):
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki():
    root_key = ec.generate_private_key(ec.SECP256R1())
    int_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = make_cert("Root", "Root", root_key, root_key, NOW - 100 * DAY, NOW + 3000 * DAY, ca=True)
    inter = make_cert("Int", "Root", root_key, int_key, NOW - 100 * DAY, NOW + 3 * DAY, ca=True)
    leaf = make_cert("www.example.test", "Int", int_key, leaf_key, NOW - 10 * DAY, NOW + 80 * DAY, sans=["www.example.test"])
    return {"root": root, "int": inter, "leaf": leaf}


def test_the_certificate_that_expires_first_decides(pki):
    result = judge_chain([pki["leaf"], pki["int"]], OPTIONS, NOW, verify=False, anchor_subjects={"CN=Root"})
    assert result["status"] == "critical"
    assert result["days_remaining"] == pytest.approx(3.0)
    assert result["expires_first"] == "CN=Int"
    assert [c["severity"] for c in result["chain"]] == ["ok", "critical"]
    assert result["reasons"] == ["certificate 1 (CN=Int) expires in 3.0 days (critical threshold 7 days)"]
    assert result["chain_in_order"] and result["chain_complete"]
    assert result["chain"][0]["key"] == "RSA 2048"
    assert result["chain"][1]["key"] == "EC 256"
    assert result["chain"][0]["lifetime_days"] == pytest.approx(90.0)


def test_hostname_mismatch_is_its_own_reason(pki):
    result = judge_chain([pki["leaf"], pki["int"]], dict(OPTIONS, critical_days=0, warning_days=0), NOW,
                         hostname="other.example.test", verify=False, anchor_subjects={"CN=Root"})
    assert result["hostname_match"] is False
    assert result["status"] == "critical"
    assert result["reasons"] == ["hostname mismatch: other.example.test is not in the certificate's names (www.example.test)"]


def test_verification_time_stays_inside_the_presented_validity(pki):
    chain = [pki["leaf"], pki["int"]]
    assert verification_time(chain, NOW) == NOW
    later = NOW + 10 * DAY  # the intermediate has expired by then
    assert verification_time(chain, later) == pki["int"].not_valid_after_utc


def test_summary_and_line():
    results = [
        {"status": "ok", "days_remaining": 80.0, "reasons": [], "not_after": "2027-02-15T00:00:00Z", "chain": [{"subject": "CN=a"}],
         "expires_first": "CN=a", "error_kind": None},
        {"status": "error", "days_remaining": None, "reasons": ["x"], "error_kind": "timeout", "error": "timed out"},
        {"status": "warning", "days_remaining": 20.0, "reasons": ["leaf expires in 20.0 days (warning threshold 25 days)"],
         "not_after": "2026-12-17T00:00:00Z", "chain": [{"subject": "CN=b"}], "expires_first": "CN=b", "error_kind": None},
    ]
    summary = summarize(results)
    assert summary == {"ok": 1, "warning": 1, "critical": 0, "error": 1, "total": 3, "worst_status": "error", "min_days_remaining": 20.0}
    assert summary_line(results[0]) == "ok: expires in 80.0 days (2027-02-15)"
    assert summary_line(results[1]) == "timeout error: timed out"
    assert summary_line(results[2]) == "warning: leaf expires in 20.0 days (warning threshold 25 days)"
