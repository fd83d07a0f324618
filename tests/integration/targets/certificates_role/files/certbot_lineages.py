#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates laid out as certbot lays out its lineages, for the certificates_role target.

    certbot_lineages.py DIR NAME=DAYS [NAME=DAYS ...]

For each NAME writes a self-signed certificate (cryptography, EC P-256) valid for 90 days whose
not_after is DAYS days and one hour from now, to DIR/archive/NAME/cert1.pem, and the symlink
DIR/live/NAME/cert.pem -> ../../archive/NAME/cert1.pem (certbot's live/ and archive/).
Prints a JSON mapping of NAME to the path of its live cert.pem.
"""

from __future__ import annotations

import datetime
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LIFETIME_DAYS = 90


def make_certificate(name, days_left):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    not_after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days_left, hours=1)
    not_before = not_after - datetime.timedelta(days=max(LIFETIME_DAYS, days_left + 1))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    root = argv[0]
    out = {}
    for spec in argv[1:]:
        name, sep, days = spec.partition("=")
        if not sep or not name:
            sys.stderr.write("expected NAME=DAYS, got %r\n" % spec)
            return 2
        archive = os.path.join(root, "archive", name)
        live = os.path.join(root, "live", name)
        os.makedirs(archive, exist_ok=True)
        os.makedirs(live, exist_ok=True)
        with open(os.path.join(archive, "cert1.pem"), "wb") as handle:
            handle.write(make_certificate(name, float(days)))
        link = os.path.join(live, "cert.pem")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.join("..", "..", "archive", name, "cert1.pem"), link)
        out[name] = link
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
