#!/usr/bin/env python
"""Lab CA and server certificates for the TLS endpoints (uses `cryptography`).

usage: tls_certs.py DIR        -> prints "unchanged" or "generated"

Files in DIR: ca.pem/ca.key, valid.pem/.key (localhost + 127.0.0.1, ~180 days),
expiring.pem/.key (localhost + 127.0.0.1, expires in 5 days),
wronghost.pem/.key (other-host.example.test only, ~180 days).
Everything is (re)generated when a file is missing or when the expiring
certificate has less than 3 days left, so it always expires "within 7 days".
"""

import datetime as dt
import ipaddress
import os
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NAMES = ("ca", "valid", "expiring", "wronghost")
MIN_LEFT = dt.timedelta(days=3)


def now():
    return dt.datetime.now(dt.timezone.utc)


def write_key(path, key):
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def write_cert(path, cert):
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(path, 0o644)


def needs_regen(d):
    for n in NAMES:
        if not (d / f"{n}.pem").exists() or not (d / f"{n}.key").exists():
            return True
    cert = x509.load_pem_x509_certificate((d / "expiring.pem").read_bytes())
    return cert.not_valid_after_utc - now() < MIN_LEFT


def make_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Stronghold Lab"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Stronghold Lab CA"),
        ]
    )
    start = now() - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_leaf(ca_key, ca_cert, cn, dns, ips, days):
    key = ec.generate_private_key(ec.SECP256R1())
    start = now() - dt.timedelta(days=1)
    sans = [x509.DNSName(n) for n in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Stronghold Lab"),
                    x509.NameAttribute(NameOID.COMMON_NAME, cn),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now() + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def main():
    d = Path(sys.argv[1])
    d.mkdir(parents=True, exist_ok=True)
    if not needs_regen(d):
        print("unchanged")
        return
    if (d / "ca.pem").exists() and (d / "ca.key").exists():
        ca_cert = x509.load_pem_x509_certificate((d / "ca.pem").read_bytes())
        ca_key = serialization.load_pem_private_key((d / "ca.key").read_bytes(), password=None)
    else:
        ca_key, ca_cert = make_ca()
        write_key(d / "ca.key", ca_key)
        write_cert(d / "ca.pem", ca_cert)
    leaves = {
        "valid": ("localhost", ["localhost"], ["127.0.0.1"], 180),
        "expiring": ("localhost", ["localhost"], ["127.0.0.1"], 5),
        "wronghost": ("other-host.example.test", ["other-host.example.test"], [], 180),
    }
    for name, (cn, dns, ips, days) in leaves.items():
        key, cert = make_leaf(ca_key, ca_cert, cn, dns, ips, days)
        write_key(d / f"{name}.key", key)
        write_cert(d / f"{name}.pem", cert)
    print("generated")


if __name__ == "__main__":
    main()
