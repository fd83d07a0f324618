# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_tls for many endpoints: the per-run cache and the links path validation already checked give
the same verdicts as judging every chain from scratch; a leaf refused for another reason than its
names is not a hostname mismatch."""

from __future__ import annotations

import copy

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.stronghold.ops.plugins.module_utils._tls import (
    describe_certificate,
    described,
    hostname_refusal,
    issued_by,
    judge_chain,
    make_store,
    verify_chain,
)
from ansible_collections.stronghold.ops.tests.unit.plugins.module_utils.test_tls import DAY, NOW, OPTIONS


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_cert(subject, key, issuer, issuer_key, days, ca=False, sans=None, key_ids=True):
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - 10 * DAY)
        .not_valid_after(NOW + days * DAY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if key_ids:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    if ca:
        usage = dict.fromkeys(
            (
                "digital_signature",
                "content_commitment",
                "key_encipherment",
                "data_encipherment",
                "key_agreement",
                "encipher_only",
                "decipher_only",
            ),
            False,
        )
        builder = builder.add_extension(x509.KeyUsage(key_cert_sign=True, crl_sign=True, **usage), critical=True)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def fleet():
    """A root, one intermediate, and three leaves under it (one without key identifiers)."""
    root_key, int_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for dummy in range(3))
    root = make_cert("Root", root_key, "Root", root_key, 3000, ca=True)
    inter = make_cert("Int", int_key, "Root", root_key, 2000, ca=True)
    leaves = [
        make_cert("www%d.example.test" % i, leaf_key, "Int", int_key, 20 + i, sans=["www%d.example.test" % i])
        for i in range(3)
    ]
    bare = make_cert("bare.example.test", leaf_key, "Int", int_key, 50, sans=["bare.example.test"], key_ids=False)
    return {"root": root, "int": inter, "leaves": leaves, "bare": bare, "store": make_store([root])}


def judged(fleet, chain, hostname, cache=None):
    return judge_chain(
        chain,
        OPTIONS,
        NOW,
        anchors=[fleet["root"]],
        anchor_subjects={"CN=Root"},
        hostname=hostname,
        store=fleet["store"],
        cache=cache,
    )


def test_the_cache_gives_the_same_verdicts_as_judging_from_scratch(fleet):
    cache = {}
    for i, leaf in enumerate(fleet["leaves"]):
        chain = [leaf, fleet["int"]]
        plain = judged(fleet, chain, "www%d.example.test" % i)
        cached = judged(fleet, chain, "www%d.example.test" % i, cache)
        again = judged(fleet, chain, "www%d.example.test" % i, cache)
        assert cached == plain == again
        assert plain["trusted"] is True and plain["hostname_match"] is True
        assert plain["chain_in_order"] is True and plain["chain_complete"] is True
        assert plain["status"] == "warning"
    # the intermediate is described once for the three endpoints, each leaf once
    assert sum(1 for key in cache if key[0] == "describe") == 4


def test_cached_descriptions_are_copies(fleet):
    cache = {}
    first = described(fleet["int"], NOW, cache)
    first["reasons"] = ["changed"]
    first["dns_names"].append("changed.example.test")
    second = described(fleet["int"], NOW, cache)
    assert second == describe_certificate(fleet["int"], NOW)
    assert "reasons" not in second


def test_issued_by_is_remembered(fleet):
    cache = {}
    assert issued_by(fleet["leaves"][0], fleet["int"], cache) is True
    assert issued_by(fleet["leaves"][0], fleet["root"], cache) is False
    assert issued_by(fleet["leaves"][0], fleet["int"]) is True
    assert len(cache) == 2


def test_path_validation_gives_the_path_it_checked(fleet):
    path = []
    leaf = fleet["leaves"][1]
    assert verify_chain([leaf, fleet["int"]], [fleet["root"]], "www1.example.test", NOW, fleet["store"], path) == (
        True,
        True,
        None,
    )
    assert path == [leaf, fleet["int"], fleet["root"]]


def test_out_of_order_chain_is_still_found_with_path_validation(fleet):
    result = judged(fleet, [fleet["int"], fleet["leaves"][0]], None, {})
    assert result["chain_in_order"] is False
    assert [c["issued_by_next"] for c in result["chain"]] == [False, False]


def test_a_leaf_refused_for_a_missing_extension_is_no_hostname_mismatch(fleet):
    result = judged(fleet, [fleet["bare"], fleet["int"]], "bare.example.test", {})
    assert result["trusted"] is True
    assert result["hostname_match"] is True
    assert result["status"] == "critical"
    assert result["error_kind"] == "verify"
    assert len(result["reasons"]) == 1
    assert result["reasons"][0].startswith("the leaf is refused for server use: ")
    assert "2.5.29.35" in result["reasons"][0]  # authorityKeyIdentifier


def test_a_name_not_in_the_leaf_is_still_a_hostname_mismatch(fleet):
    result = judged(fleet, [fleet["leaves"][0], fleet["int"]], "other.example.test", {})
    assert result["hostname_match"] is False
    assert result["status"] == "critical"
    assert any(r.startswith("hostname mismatch: other.example.test") for r in result["reasons"])


@pytest.mark.parametrize(
    "message, expected",
    [
        ("validation failed: leaf certificate has no matching subjectAltName", True),
        ("validation failed: missing required extension: leaf server certificate has no subjectAltName", True),
        ("validation failed: invalid extension: 2.5.29.35: Certificate is missing required extension", False),
        (None, False),
        ("", False),
    ],
)
def test_hostname_refusal(message, expected):
    assert hostname_refusal(message) is expected


def test_judging_does_not_change_the_cache_entries(fleet):
    cache = {}
    judged(fleet, [fleet["leaves"][2], fleet["int"]], "www2.example.test", cache)
    snapshot = copy.deepcopy(cache)
    judged(fleet, [fleet["leaves"][2], fleet["int"]], "www2.example.test", cache)
    assert cache == snapshot
