# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure logic of cert_check: thresholds, hostname patterns, chain shape, the verdict."""

from __future__ import annotations

import base64
import datetime
import json
import os
import socket
import subprocess
import threading
import time
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from ansible_collections.stronghold.ops.plugins.module_utils._tls import (
    MAX_FILE_BYTES,
    FetchError,
    FileError,
    _Deadline,
    chain_problems,
    check_thresholds,
    expand_files,
    expiry_severity,
    hostname_matches,
    judge_certificate,
    judge_chain,
    judge_file,
    normalize_fingerprint,
    parse_certificate_data,
    read_regular_file,
    starttls,
    summarize,
    summary_line,
    verification_time,
    weak_key_reason,
)

NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)
OPTIONS = {"warning_days": 25, "critical_days": 7}


# --- thresholds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "days, lifetime, expected",
    [
        (60.0, 90.0, "ok"),
        (25.0, 90.0, "ok"),  # strictly below reaches a threshold
        (24.99, 90.0, "warning"),
        (7.0, 90.0, "warning"),
        (6.99, 90.0, "critical"),
        (0.0, 90.0, "critical"),
        (-0.01, 90.0, "critical"),
    ],
)
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


@pytest.mark.parametrize(
    "args, message",
    [
        ((5, 7), "warning_days (5) must not be lower than critical_days (7)"),
        ((-1, 0), "warning_days must be a number of days >= 0"),
        ((25, -1), "critical_days must be a number of days >= 0"),
        ((25, 7, 1.0), "min_remaining_fraction must lie between 0 and 1"),
        ((25, 7, None, 0), "critical_remaining_fraction must lie between 0 and 1"),
        ((25, 7, 0.1, 0.2), "min_remaining_fraction (0.1) must not be lower than critical_remaining_fraction (0.2)"),
    ],
)
def test_inconsistent_thresholds_are_refused(args, message):
    assert message in check_thresholds(*args)


def test_consistent_thresholds_pass():
    assert check_thresholds(25, 7) is None
    assert check_thresholds(7, 7) is None
    assert check_thresholds(0, 0, 0.33, 0.1) is None


# --- hostname --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostname, dns, ips, expected",
    [
        ("www.example.com", ["www.example.com"], [], True),
        ("WWW.Example.com.", ["www.example.com"], [], True),
        ("a.example.com", ["*.example.com"], [], True),
        ("example.com", ["*.example.com"], [], False),  # a wildcard needs a label
        ("a.b.example.com", ["*.example.com"], [], False),  # and only one
        ("a.example.com", ["a*.example.com"], [], False),  # partial wildcards are not honoured
        ("127.0.0.1", ["127.0.0.1"], [], False),  # an address matches only iPAddress entries
        ("127.0.0.1", [], ["127.0.0.1"], True),
        ("::1", [], ["0:0:0:0:0:0:0:1"], True),
        ("other.example.com", ["www.example.com"], ["10.0.0.1"], False),
    ],
)
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


@pytest.mark.parametrize(
    "key_type, bits, weak",
    [
        ("RSA", 1024, True),
        ("RSA", 2048, False),
        ("EC", 224, True),
        ("EC", 256, False),
        ("DSA", 2048, True),
        ("Ed25519", 256, False),
    ],
)
def test_weak_keys(key_type, bits, weak):
    assert (weak_key_reason(key_type, bits) is not None) is weak


def info(**overrides):
    base = {
        "not_yet_valid": False,
        "not_before": "2026-01-01T00:00:00Z",
        "days_remaining": 60.0,
        "lifetime_days": 90.0,
        "key_type": "RSA",
        "key_bits": 2048,
        "signature_hash": "sha256",
        "signature_algorithm": "sha256WithRSAEncryption",
        "self_signed": False,
        "is_ca": False,
    }
    base.update(overrides)
    return base


def test_judge_certificate_collects_every_reason():
    severity, reasons = judge_certificate(
        info(days_remaining=20.0, key_bits=1024, signature_hash="sha1", signature_algorithm="sha1WithRSAEncryption"),
        OPTIONS,
    )
    assert severity == "critical"
    assert reasons == [
        "expires in 20.0 days (warning threshold 25 days)",
        "weak key: RSA 1024 bits (minimum 2048)",
        "weak signature: SHA1 (sha1WithRSAEncryption)",
    ]


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
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
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
    leaf = make_cert(
        "www.example.test", "Int", int_key, leaf_key, NOW - 10 * DAY, NOW + 80 * DAY, sans=["www.example.test"]
    )
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
    result = judge_chain(
        [pki["leaf"], pki["int"]],
        dict(OPTIONS, critical_days=0, warning_days=0),
        NOW,
        hostname="other.example.test",
        verify=False,
        anchor_subjects={"CN=Root"},
    )
    assert result["hostname_match"] is False
    assert result["status"] == "critical"
    assert result["reasons"] == [
        "hostname mismatch: other.example.test is not in the certificate's names (www.example.test)"
    ]


def test_verification_time_stays_inside_the_presented_validity(pki):
    chain = [pki["leaf"], pki["int"]]
    assert verification_time(chain, NOW) == NOW
    later = NOW + 10 * DAY  # the intermediate has expired by then
    assert verification_time(chain, later) == pki["int"].not_valid_after_utc


def test_summary_and_line():
    results = [
        {
            "status": "ok",
            "days_remaining": 80.0,
            "reasons": [],
            "not_after": "2027-02-15T00:00:00Z",
            "chain": [{"subject": "CN=a"}],
            "expires_first": "CN=a",
            "error_kind": None,
        },
        {"status": "error", "days_remaining": None, "reasons": ["x"], "error_kind": "timeout", "error": "timed out"},
        {
            "status": "warning",
            "days_remaining": 20.0,
            "reasons": ["leaf expires in 20.0 days (warning threshold 25 days)"],
            "not_after": "2026-12-17T00:00:00Z",
            "chain": [{"subject": "CN=b"}],
            "expires_first": "CN=b",
            "error_kind": None,
        },
    ]
    summary = summarize(results)
    assert summary == {
        "ok": 1,
        "warning": 1,
        "critical": 0,
        "error": 1,
        "total": 3,
        "worst_status": "error",
        "min_days_remaining": 20.0,
    }
    assert summary_line(results[0]) == "ok: expires in 80.0 days (2027-02-15)"
    assert summary_line(results[1]) == "timeout error: timed out"
    assert summary_line(results[2]) == "warning: leaf expires in 20.0 days (warning threshold 25 days)"


# --- certificate files: what each block is, and which files are never opened ------------

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
NO_PASSWORD = serialization.NoEncryption()


@pytest.fixture(scope="module")
def material(pki):
    """Real PEM and DER data of every kind a certificate file may hold, made with cryptography."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    leaf, inter = pki["leaf"], pki["int"]
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "req.example.test")]))
        .sign(ec_key, hashes.SHA256())
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Root")]))
        .last_update(NOW)
        .next_update(NOW + DAY)
        .sign(ec_key, hashes.SHA256())
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # finite-field DH is deprecated in cryptography; the files still exist
        dh_parameters = dh.generate_parameters(generator=2, key_size=512).parameter_bytes(
            PEM, serialization.ParameterFormat.PKCS3
        )
    keys = {
        "pkcs8": rsa_key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, NO_PASSWORD),
        "rsa": rsa_key.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, NO_PASSWORD),
        "ec": ec_key.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, NO_PASSWORD),
        "encrypted": rsa_key.private_bytes(
            PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"secret")
        ),
        "legacy_encrypted": rsa_key.private_bytes(
            PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.BestAvailableEncryption(b"secret")
        ),
        "openssh": ed_key.private_bytes(PEM, serialization.PrivateFormat.OpenSSH, NO_PASSWORD),
        "der": rsa_key.private_bytes(DER, serialization.PrivateFormat.PKCS8, NO_PASSWORD),
    }
    return {
        "leaf": leaf.public_bytes(PEM),
        "int": inter.public_bytes(PEM),
        "leaf_der": leaf.public_bytes(DER),
        "keys": keys,
        "public": rsa_key.public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "csr": csr.public_bytes(PEM),
        "crl": crl.public_bytes(PEM),
        "dh": dh_parameters,
        "pkcs7": pkcs7.serialize_certificates([leaf, inter], PEM),
    }


def secret_fragments(material):
    """Pieces of every private key serialization: none of them may appear in any output."""
    pieces = []
    for name, data in material["keys"].items():
        if name == "der":
            pieces.append(base64.b64encode(data)[100:140].decode())
            pieces.append(data[100:120].hex())
            continue
        for line in data.splitlines():
            if not line.startswith(b"-----") and b":" not in line and len(line) > 20:
                pieces.append(line[:24].decode())
    assert len(pieces) > 20
    return pieces


def assert_no_key_material(output, material):
    text = json.dumps(output, default=str)
    leaked = [piece for piece in secret_fragments(material) if piece in text]
    assert not leaked, "key material in the output: %s" % leaked[:3]


def contents_of(data):
    found = parse_certificate_data(data)
    return [(b["label"], b["content"], b["detail"], b["problem"]) for b in found["blocks"]], found


def test_a_key_only_file_is_described_as_a_private_key(material):
    blocks, found = contents_of(material["keys"]["pkcs8"])
    assert blocks == [("PRIVATE KEY", "private_key", "RSA 2048", None)]
    assert found["certificates"] == [] and found["private_key"] and found["format"] == "pem"
    result = judge_file("/etc/ssl/site.key", found, OPTIONS, NOW, verify=False, check_order=False)
    assert result["status"] == "error" and result["error_kind"] == "parse"
    assert (
        result["error"]
        == "/etc/ssl/site.key holds no certificate: PEM block 1 at line 1 (PRIVATE KEY) is a private key (RSA 2048)"
    )
    assert "neither PEM nor DER" not in result["error"]


@pytest.mark.parametrize(
    "name, label, detail",
    [
        ("pkcs8", "PRIVATE KEY", "RSA 2048"),
        ("rsa", "RSA PRIVATE KEY", "RSA 2048"),
        ("ec", "EC PRIVATE KEY", "EC 256"),
        ("encrypted", "ENCRYPTED PRIVATE KEY", "encrypted"),
        ("legacy_encrypted", "RSA PRIVATE KEY", "encrypted"),
        ("openssh", "OPENSSH PRIVATE KEY", "Ed25519 256"),
    ],
)
def test_every_private_key_format_is_named_and_never_echoed(material, name, label, detail):
    data = material["leaf"] + material["keys"][name]
    blocks, found = contents_of(data)
    assert blocks[1] == (label, "private_key", detail, None)
    assert found["private_key"] and len(found["certificates"]) == 1
    result = judge_file("/etc/haproxy/site.pem", found, OPTIONS, NOW, verify=False, check_order=False)
    assert result["status"] == "ok" and result["reasons"] == []
    assert result["notes"] == [
        "PEM block 2 at line %d (%s) is a private key (%s)" % (blocks and found["blocks"][1]["line"], label, detail)
    ]
    assert "also in the file: PEM block 2" in summary_line(result)
    assert_no_key_material(result, material)


def test_every_other_label_is_reported_as_what_it_is(material):
    data = b"".join(
        [
            material["public"],
            material["csr"],
            material["crl"],
            material["dh"],
            material["pkcs7"],
            b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n",
            b"-----BEGIN STRONGHOLD THING-----\nAAAA\n-----END STRONGHOLD THING-----\n",
        ]
    )
    blocks, found = contents_of(data)
    assert blocks == [
        ("PUBLIC KEY", "public_key", "RSA 2048", None),
        ("CERTIFICATE REQUEST", "certificate_request", "CN=req.example.test", None),
        ("X509 CRL", "crl", "CN=Root", None),
        ("DH PARAMETERS", "parameters", None, None),
        ("PKCS7", "certificates", "2 certificate(s)", None),
        ("EC PARAMETERS", "parameters", None, None),
        ("STRONGHOLD THING", "unknown", None, None),
    ]
    # The PKCS#7 bundle's certificates are judged; the rest are notes, not problems.
    assert sorted(c.subject.rfc4514_string() for c in found["certificates"]) == ["CN=Int", "CN=www.example.test"]
    assert found["blocks"][4]["certificate"] == 0
    assert found["problems"] == [] and not found["private_key"]
    assert len(found["notes"]) == 6
    assert found["notes"][-1].endswith("(STRONGHOLD THING) is a kind of block cert_check does not know")


def test_a_cut_block_does_not_swallow_the_certificate_after_it(material):
    cut = b"\n".join(material["int"].splitlines()[:5]) + b"\n"
    data = cut + material["leaf"]
    blocks, found = contents_of(data)
    assert blocks[0] == ("CERTIFICATE", None, None, "is cut: no END line before the next BEGIN at line 6")
    assert blocks[1][:3] == ("CERTIFICATE", "certificate", "CN=www.example.test")
    assert len(found["certificates"]) == 1
    result = judge_file("f.pem", found, OPTIONS, NOW, verify=False, check_order=False)
    assert result["status"] == "critical" and result["error_kind"] == "parse"
    assert (
        result["reasons"][0]
        == "PEM block 1 at line 1 (CERTIFICATE) is cut: no END line before the next BEGIN at line 6"
    )
    assert result["days_remaining"] == pytest.approx(80.0)
    # Cut at the end of the file: the certificates before it are still read.
    blocks, found = contents_of(material["leaf"] + cut)
    assert blocks[1][3] == "is cut: no END line before the end of the file (line %d)" % (
        len(material["leaf"].splitlines()) + 5
    )
    assert len(found["certificates"]) == 1


def test_stray_end_and_mismatched_labels_are_damage(material):
    leaf_lines = material["leaf"].splitlines()
    key_lines = material["keys"]["pkcs8"].splitlines()
    stray_end = b"\n".join(leaf_lines[5:]) + b"\n"  # a certificate that lost its first lines
    mismatched = b"\n".join(key_lines[:-1] + [b"-----END CERTIFICATE-----"]) + b"\n"
    blocks, found = contents_of(stray_end + mismatched + material["int"])
    end_line = len(leaf_lines) - 5
    assert blocks[0] == ("CERTIFICATE", None, None, "is an END line without a BEGIN line")
    assert found["blocks"][0]["line"] == end_line
    assert blocks[1] == (
        "PRIVATE KEY",
        None,
        None,
        "ends with a different label: END CERTIFICATE at line %d" % (end_line + len(key_lines)),
    )
    assert blocks[2][1] == "certificate"
    assert len(found["problems"]) == 2
    # A damaged block labelled as a key still says a key is there; its text is never repeated.
    assert found["private_key"]
    assert_no_key_material(found["blocks"] + found["problems"] + found["notes"], material)


def test_invalid_base64_empty_block_and_a_certificate_that_does_not_parse(material):
    data = (
        b"-----BEGIN CERTIFICATE-----\nMII*not base64*\n-----END CERTIFICATE-----\n"
        b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"
        b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(b"\x30\x03\x02\x01\x05") + b"-----END CERTIFICATE-----\n"
        b"-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(b"\x30\x03\x02\x01\x05") + b"-----END PRIVATE KEY-----\n"
    )
    blocks, found = contents_of(data)
    assert [b[3] for b in blocks] == [
        "has invalid base64 text",
        "is empty: nothing between BEGIN and END",
        "decodes, but is not a valid X.509 certificate",
        "does not decode as a private key",
    ]
    result = judge_file("bad.pem", found, OPTIONS, NOW)
    assert result["status"] == "error"
    assert result["error"].startswith(
        "bad.pem holds no certificate: PEM block 1 at line 1 (CERTIFICATE) has invalid base64 text; "
    )
    # cryptography's own messages are not passed on (they can quote the input)
    assert "asn1" not in result["error"].lower() and "parse" not in result["error"].lower()


def test_text_between_blocks_crlf_and_a_byte_order_mark_are_read(material):
    text = (
        b"\xef\xbb\xbfCertificate:\n    Data:\n        Version: 3 (0x2)\n# a comment -----\n"
        + material["leaf"]
        + b"\nsome words\n"
        + material["int"]
    )
    blocks, found = contents_of(text.replace(b"\n", b"\r\n"))
    assert [b[:3] for b in blocks] == [
        ("CERTIFICATE", "certificate", "CN=www.example.test"),
        ("CERTIFICATE", "certificate", "CN=Int"),
    ]
    assert found["blocks"][0]["line"] == 5
    assert found["problems"] == [] and found["notes"] == []


def test_trusted_certificate_format_is_a_certificate(material, tmp_path):
    source = tmp_path / "leaf.pem"
    source.write_bytes(material["leaf"])
    trusted = subprocess.run(
        ["openssl", "x509", "-in", str(source), "-trustout", "-addtrust", "serverAuth"], check=True, capture_output=True
    ).stdout
    assert b"BEGIN TRUSTED CERTIFICATE" in trusted
    blocks, found = contents_of(trusted)
    assert blocks == [("TRUSTED CERTIFICATE", "certificate", "CN=www.example.test", None)]
    assert found["certificates"][0].public_bytes(DER) == material["leaf_der"]


@pytest.mark.parametrize(
    "name, content, detail",
    [
        ("leaf_der", "certificate", "CN=www.example.test"),
        ("key_der", "private_key", "RSA 2048"),
        ("public_der", "public_key", "RSA 2048"),
        ("csr_der", "certificate_request", "CN=req.example.test"),
        ("crl_der", "crl", "CN=Root"),
    ],
)
def test_der_files_are_identified(material, name, content, detail):
    data = {
        "leaf_der": material["leaf_der"],
        "key_der": material["keys"]["der"],
        "public_der": serialization.load_pem_public_key(material["public"]).public_bytes(
            DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "csr_der": x509.load_pem_x509_csr(material["csr"]).public_bytes(DER),
        "crl_der": x509.load_pem_x509_crl(material["crl"]).public_bytes(DER),
    }[name]
    blocks, found = contents_of(data)
    assert found["format"] == "der"
    assert blocks == [(None, content, detail, None)]
    result = judge_file("x.der", found, OPTIONS, NOW, verify=False, check_order=False)
    if content == "certificate":
        assert result["status"] == "ok"
    else:
        assert result["error"] == "x.der holds no certificate: the DER data is %s" % (
            {
                "private_key": "a private key",
                "public_key": "a public key",
                "certificate_request": "a certificate signing request",
                "crl": "a certificate revocation list",
            }[content]
            + " (%s)" % detail
        )
    assert_no_key_material(result, material)


def test_empty_and_unknown_data():
    found = parse_certificate_data(b"")
    assert judge_file("e.pem", found, OPTIONS, NOW)["error"] == "e.pem is empty"
    found = parse_certificate_data(b"this is not a certificate\n")
    assert found["format"] is None
    assert judge_file("t.txt", found, OPTIONS, NOW)["error"] == (
        "t.txt holds no certificate: it is neither PEM nor DER data cert_check recognises (26 bytes)"
    )


# --- which files are opened at all -------------------------------------------------------


@pytest.fixture
def special_files(tmp_path):
    """A FIFO, a socket, a directory, a dangling link, a link to a FIFO, a regular file."""
    paths = {
        "dir": tmp_path / "adir",
        "fifo": tmp_path / "a.fifo",
        "socket": tmp_path / "a.sock",
        "dangling": tmp_path / "dangling.pem",
        "fifo_link": tmp_path / "fifo-link.pem",
        "regular": tmp_path / "ok.pem",
    }
    paths["dir"].mkdir()
    os.mkfifo(str(paths["fifo"]))
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(paths["socket"]))
    paths["dangling"].symlink_to(tmp_path / "gone.pem")
    paths["fifo_link"].symlink_to(paths["fifo"])
    paths["regular"].write_bytes(b"x")
    yield dict((k, str(v)) for k, v in paths.items())
    server.close()


def test_special_files_are_never_opened_and_have_one_wording(special_files):
    expected = {
        "dir": "is a directory, not a regular file: not read",
        "fifo": "is a FIFO (named pipe), not a regular file: not read",
        "fifo_link": "is a FIFO (named pipe), not a regular file: not read",
        "socket": "is a socket, not a regular file: not read",
        "dangling": "is a dangling symbolic link (to %s): not read"
        % special_files["dangling"].replace("dangling.pem", "gone.pem"),
    }
    for name, tail in expected.items():
        with pytest.raises(FileError) as caught:
            read_regular_file(special_files[name])
        assert str(caught.value) == "%s %s" % (special_files[name], tail)
    assert read_regular_file(special_files["regular"]) == b"x"


@pytest.mark.parametrize(
    "path, message",
    [
        ("/dev/null", "/dev/null is a character device, not a regular file: not read"),
        ("/nonexistent/x.pem", "/nonexistent/x.pem does not exist (no such file or directory)"),
        # write-only even for root: the one unreadable file a root test can rely on
        ("/proc/sys/vm/compact_memory", "/proc/sys/vm/compact_memory cannot be read: Permission denied"),
    ],
)
def test_devices_missing_and_unreadable_files(path, message):
    if path.startswith("/proc") and not os.path.exists(path):
        pytest.skip("%s does not exist here" % path)
    with pytest.raises(FileError) as caught:
        read_regular_file(path)
    assert str(caught.value) == message


def test_the_read_is_bounded(tmp_path):
    huge = tmp_path / "huge.pem"
    with open(str(huge), "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(FileError) as caught:
        read_regular_file(str(huge))
    assert str(caught.value) == "%s is larger than 16 MiB (%d bytes): not read" % (huge, MAX_FILE_BYTES + 1)
    exact = tmp_path / "exact.pem"
    with open(str(exact), "wb") as handle:
        handle.truncate(1024)
    assert len(read_regular_file(str(exact), limit=1024)) == 1024


def test_globs_keep_every_match_and_literal_names_win(special_files, tmp_path):
    directory = os.path.dirname(special_files["fifo"])
    found = [os.path.basename(p) for dummy, p in expand_files([directory + "/*"])]
    assert found == sorted(["adir", "a.fifo", "a.sock", "dangling.pem", "fifo-link.pem", "ok.pem"])
    odd = tmp_path / "cert[1].pem"
    odd.write_bytes(b"x")
    assert expand_files([str(odd)]) == [(str(odd), str(odd))]
    assert expand_files([directory + "/nothing-*.pem"]) == [(directory + "/nothing-*.pem", None)]


# --- STARTTLS, against a scripted peer on a real socket pair ------------------------------


def run_starttls(protocol, script):
    """starttls() against a peer that sends each of ``script``'s answers after reading one command.

    ``script`` is [(expected command or None for the greeting, answer bytes)]; returns what the
    peer received, or the FetchError raised.
    """
    client, server = socket.socketpair()
    received = []

    def peer():
        server.settimeout(5)
        with server, server.makefile("rb") as commands:
            for command, answer in script:
                if command is not None:
                    received.append(commands.readline())
                server.sendall(answer)

    thread = threading.Thread(target=peer, daemon=True)
    thread.start()
    try:
        starttls(client, protocol, _Deadline(time.monotonic() + 5))
        outcome = None
    except FetchError as exc:
        outcome = exc
    finally:
        client.close()
        thread.join(5)
    return received, outcome


def test_starttls_smtp_reads_multi_line_replies():
    received, outcome = run_starttls(
        "smtp",
        [
            (None, b"220-mail.test ESMTP\r\n220 ready\r\n"),
            (b"EHLO", b"250-mail.test\r\n250-STARTTLS\r\n250 SIZE 1000\r\n"),
            (b"STARTTLS", b"220 go ahead\r\n"),
        ],
    )
    assert outcome is None
    assert received == [b"EHLO stronghold-cert-check.invalid\r\n", b"STARTTLS\r\n"]


def test_starttls_ftp_imap_pop3():
    assert run_starttls("ftp", [(None, b"220 ftp\r\n"), (b"AUTH", b"234 AUTH TLS ok\r\n")]) == (
        [b"AUTH TLS\r\n"],
        None,
    )
    imap = [(None, b"* ok IMAP ready\r\n"), (b"a1", b"* CAPABILITY IMAP4rev1\r\na1 OK begin TLS\r\n")]
    assert run_starttls("imap", imap) == ([b"a1 STARTTLS\r\n"], None)
    assert run_starttls("pop3", [(None, b"+OK pop\r\n"), (b"STLS", b"+OK begin\r\n")]) == ([b"STLS\r\n"], None)


@pytest.mark.parametrize(
    "protocol, script, message",
    [
        ("smtp", [(None, b"554 go away\r\n")], "STARTTLS (smtp) refused by the server: 554 go away"),
        (
            "smtp",
            [(None, b"220 ok\r\n"), (b"EHLO", b"250 ok\r\n"), (b"STARTTLS", b"454 TLS not available\r\n")],
            "STARTTLS (smtp) refused by the server: 454 TLS not available",
        ),
        ("ftp", [(None, b"220 ok\r\n"), (b"AUTH", b"500 no\r\n")], "STARTTLS (ftp) refused by the server: 500 no"),
        ("imap", [(None, b"* BYE\r\n")], "STARTTLS (imap) refused by the server: * BYE"),
        ("imap", [(None, b"* OK\r\n"), (b"a1", b"a1 NO\r\n")], "STARTTLS (imap) refused by the server: a1 NO"),
        ("pop3", [(None, b"+ok\r\n")], "STARTTLS (pop3) refused by the server: +ok"),
        ("pop3", [(None, b"+OK\r\n"), (b"STLS", b"-ERR\r\n")], "STARTTLS (pop3) refused by the server: -ERR"),
        (
            "pop3",
            [(None, b"+OK\r\n"), (b"STLS", b"+OK\r\nsurprise")],
            "STARTTLS (pop3): the server sent data before the TLS handshake",
        ),
        ("smtp", [(None, b"220-cut")], "the server closed the connection during STARTTLS"),
    ],
)
def test_starttls_refusals_say_what_the_server_answered(protocol, script, message):
    dummy, outcome = run_starttls(protocol, script)
    assert isinstance(outcome, FetchError) and outcome.kind == "handshake"
    assert outcome.message == message
