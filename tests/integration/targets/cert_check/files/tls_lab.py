#!/usr/bin/env python
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real TLS servers on 127.0.0.1 for the cert_check integration target.

    tls_lab.py start DIR   make a test PKI in DIR, start the servers in the background, wait until they listen
    tls_lab.py stop DIR    stop them (the pid is in DIR/servers.pid)

The PKI (cryptography): a root CA, an intermediate (5 years), a second intermediate that expires
in 3 days, and leaves for localhost / 127.0.0.1. Ports (see SERVERS): 18600 valid chain,
18601 expired leaf, 18602 leaf fine but intermediate expiring in 3 days, 18603 wrong host,
18604 self-signed, 18605 incomplete chain (no intermediate sent), 18606 RSA 1024, 18607 SHA-1
signature, 18608 accepts TCP and stays silent, 18609 closed (nothing listens), 18610 SMTP with
STARTTLS (aiosmtpd), 18611 IMAP STARTTLS, 18612 POP3 STLS, 18613 chain out of order, 18614
TLS 1.2 at most, 18615 leaf with 20 days left, 18616 SMTP that refuses STARTTLS.
Files for the file cases are written to DIR/files, the PostgreSQL server pair to DIR/pg, and files
that are not plain certificate bundles (keys, combined, cut, damaged, special files) to DIR/blocks.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOST = "127.0.0.1"
NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(common_name):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Stronghold Test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def certificate(subject, subject_key, issuer, issuer_key, start, end, ca=False, sans=None, path_length=None):
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(name(issuer))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
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
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        entries = []
        for san in sans or ["localhost", "127.0.0.1"]:
            try:
                entries.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                entries.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def sha1_certificate(root_dir, leaf_key, issuer_key, issuer):
    """A leaf signed with SHA-1 by the intermediate: cryptography refuses to sign with SHA-1, openssl does it."""
    work = os.path.join(root_dir, "sha1-work")
    os.makedirs(work, exist_ok=True)
    csr = x509.CertificateSigningRequestBuilder().subject_name(name("localhost")).sign(leaf_key, hashes.SHA256())
    write(os.path.join(work, "leaf.csr"), csr.public_bytes(serialization.Encoding.PEM))
    write(os.path.join(work, "issuer.pem"), pem(issuer))
    write(os.path.join(work, "issuer.key"), key_pem(issuer_key), 0o600)
    write(
        os.path.join(work, "ext.cnf"),
        b"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        b"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    subprocess.run(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "issuer.pem",
            "-CAkey",
            "issuer.key",
            "-CAcreateserial",
            "-sha1",
            "-days",
            "89",
            "-extfile",
            "ext.cnf",
            "-out",
            "leaf.pem",
        ],
        cwd=work,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    with open(os.path.join(work, "leaf.pem"), "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(private_key):
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def write(path, data, mode=0o644):
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def make_pki(root_dir):
    """Every certificate and key the servers and the file cases use; returns the facts the tests assert."""
    os.makedirs(os.path.join(root_dir, "certs"), exist_ok=True)
    os.makedirs(os.path.join(root_dir, "files", "glob"), exist_ok=True)
    os.makedirs(os.path.join(root_dir, "pg"), exist_ok=True)
    root_key, int_key, short_key = key(), key(), key()
    root = certificate(
        "Stronghold Test Root", root_key, "Stronghold Test Root", root_key, NOW - 10 * DAY, NOW + 3650 * DAY, ca=True
    )
    inter = certificate(
        "Stronghold Test Intermediate",
        int_key,
        "Stronghold Test Root",
        root_key,
        NOW - 10 * DAY,
        NOW + 1825 * DAY,
        ca=True,
        path_length=0,
    )
    short = certificate(
        "Stronghold Test Short Intermediate",
        short_key,
        "Stronghold Test Root",
        root_key,
        NOW - 30 * DAY,
        NOW + 3 * DAY,
        ca=True,
        path_length=0,
    )
    leaf_key = key()
    leaves = {
        "valid": certificate("localhost", leaf_key, "Stronghold Test Intermediate", int_key, NOW - DAY, NOW + 89 * DAY),
        "expired": certificate(
            "localhost", leaf_key, "Stronghold Test Intermediate", int_key, NOW - 100 * DAY, NOW - 10 * DAY
        ),
        "short": certificate(
            "localhost", leaf_key, "Stronghold Test Short Intermediate", short_key, NOW - DAY, NOW + 2 * DAY + 89 * DAY
        ),
        "wronghost": certificate(
            "other-host.stronghold.test",
            leaf_key,
            "Stronghold Test Intermediate",
            int_key,
            NOW - DAY,
            NOW + 89 * DAY,
            sans=["other-host.stronghold.test"],
        ),
        "selfsigned": certificate("localhost", leaf_key, "localhost", leaf_key, NOW - DAY, NOW + 89 * DAY),
        "warning": certificate(
            "localhost", leaf_key, "Stronghold Test Intermediate", int_key, NOW - 70 * DAY, NOW + 20 * DAY
        ),
    }
    leaves["sha1"] = sha1_certificate(root_dir, leaf_key, int_key, inter)
    weak_key = key(1024)
    leaves["weak"] = certificate(
        "localhost", weak_key, "Stronghold Test Intermediate", int_key, NOW - DAY, NOW + 89 * DAY
    )
    certs_dir = os.path.join(root_dir, "certs")
    write(os.path.join(root_dir, "ca.pem"), pem(root))
    write(os.path.join(certs_dir, "leaf.key"), key_pem(leaf_key), 0o600)
    write(os.path.join(certs_dir, "weak.key"), key_pem(weak_key), 0o600)
    chains = {
        "valid": [leaves["valid"], inter],
        "expired": [leaves["expired"], inter],
        "short": [leaves["short"], short],
        "wronghost": [leaves["wronghost"], inter],
        "selfsigned": [leaves["selfsigned"]],
        "incomplete": [leaves["valid"]],
        "weak": [leaves["weak"], inter],
        "sha1": [leaves["sha1"], inter],
        "outoforder": [leaves["valid"], root, inter],
        "warning": [leaves["warning"], inter],
    }
    for label, chain in chains.items():
        write(os.path.join(certs_dir, label + ".pem"), b"".join(pem(c) for c in chain))
    files = os.path.join(root_dir, "files")
    write(os.path.join(files, "leaf.pem"), pem(leaves["valid"]))
    write(os.path.join(files, "leaf.der"), leaves["valid"].public_bytes(serialization.Encoding.DER))
    write(os.path.join(files, "bundle.pem"), pem(leaves["warning"]) + pem(short) + pem(root))
    write(os.path.join(files, "glob", "a.pem"), pem(leaves["valid"]))
    write(os.path.join(files, "glob", "b.pem"), pem(leaves["expired"]))
    write(os.path.join(files, "notacert.txt"), b"this is not a certificate\n")
    write(os.path.join(root_dir, "pg", "server.crt"), pem(leaves["valid"]) + pem(inter))
    write(os.path.join(root_dir, "pg", "server.key"), key_pem(leaf_key), 0o600)
    make_block_files(os.path.join(root_dir, "blocks"), leaves["valid"], inter, leaf_key)
    facts = {
        "key_fragments": key_fragments(leaf_key),
        "fingerprint_valid": leaves["valid"].fingerprint(hashes.SHA256()).hex(":").upper(),
        "valid_not_after": leaves["valid"].not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "short_not_after": short.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    write(os.path.join(root_dir, "facts.json"), json.dumps(facts).encode())
    return facts


def key_fragments(private_key):
    """Pieces of every serialization of the key that the module could leak: none may appear in a result."""
    pieces = []
    for form in (serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8):
        text = private_key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption())
        pieces.extend(line[:24].decode() for line in text.splitlines()[1:-1])
    der = private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    pieces.append(der[64:96].hex())
    return pieces


def make_block_files(directory, leaf, inter, leaf_key):
    """Files as a user may point cert_check at: keys, a combined PEM, damaged PEM, DER, special files."""
    os.makedirs(directory, exist_ok=True)
    key = key_pem(leaf_key)
    cut_inter = b"\n".join(pem(inter).splitlines()[:6]) + b"\n"
    write(os.path.join(directory, "key-only.pem"), key, 0o600)
    write(os.path.join(directory, "haproxy.pem"), pem(leaf) + pem(inter) + key, 0o600)
    write(os.path.join(directory, "cut.pem"), cut_inter + pem(leaf))
    write(
        os.path.join(directory, "mismatched.pem"),
        key.replace(b"END RSA PRIVATE KEY", b"END CERTIFICATE") + pem(leaf),
        0o600,
    )
    text = subprocess.run(
        ["openssl", "x509", "-text", "-noout"], input=pem(leaf), check=True, capture_output=True
    ).stdout
    write(
        os.path.join(directory, "crlf-text.pem"),
        (text + pem(leaf) + b"# the intermediate\n" + pem(inter)).replace(b"\n", b"\r\n"),
    )
    trusted = subprocess.run(
        ["openssl", "x509", "-trustout", "-addtrust", "serverAuth"], input=pem(leaf), check=True, capture_output=True
    ).stdout
    write(os.path.join(directory, "trusted.pem"), trusted)
    write(
        os.path.join(directory, "key.der"),
        leaf_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        0o600,
    )
    write(os.path.join(directory, "empty.pem"), b"")
    with open(os.path.join(directory, "huge.pem"), "wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: no disk is used
    os.mkfifo(os.path.join(directory, "fifo.pem"))
    os.mkdir(os.path.join(directory, "dir.pem"))
    os.symlink(os.path.join(directory, "gone.pem"), os.path.join(directory, "dangling.pem"))
    os.symlink("/dev/null", os.path.join(directory, "null.pem"))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
        unix.bind(os.path.join(directory, "socket.pem"))


# label, port, what the port does
SERVERS = [
    ("valid", 18600, "tls"),
    ("expired", 18601, "tls"),
    ("short", 18602, "tls"),
    ("wronghost", 18603, "tls"),
    ("selfsigned", 18604, "tls"),
    ("incomplete", 18605, "tls"),
    ("weak", 18606, "tls"),
    ("sha1", 18607, "tls"),
    ("valid", 18608, "silent"),
    ("valid", 18610, "smtp"),
    ("valid", 18611, "imap"),
    ("valid", 18612, "pop3"),
    ("outoforder", 18613, "tls"),
    ("valid", 18614, "tls12"),
    ("warning", 18615, "tls"),
    ("valid", 18616, "smtp_refuse"),
]


def server_context(root_dir, label, max_tls12=False):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # Security level 0: OpenSSL would refuse to serve the 1024-bit key and the SHA-1 chain.
    context.set_ciphers("ALL:@SECLEVEL=0")
    if max_tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    keyfile = "weak.key" if label == "weak" else "leaf.key"
    context.load_cert_chain(os.path.join(root_dir, "certs", label + ".pem"), os.path.join(root_dir, "certs", keyfile))
    return context


def read_line(conn):
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def handle(conn, kind, context):
    try:
        conn.settimeout(10)
        if kind == "silent":
            time.sleep(30)
            return
        if kind == "imap":
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] test server ready\r\n")
            tag = read_line(conn).split(b" ", 1)[0]
            conn.sendall(tag + b" OK Begin TLS negotiation now\r\n")
        elif kind == "pop3":
            conn.sendall(b"+OK test POP3 server ready\r\n")
            read_line(conn)
            conn.sendall(b"+OK Begin TLS negotiation\r\n")
        elif kind == "smtp_refuse":
            conn.sendall(b"220 test ESMTP\r\n")
            read_line(conn)
            conn.sendall(b"250 test\r\n")
            read_line(conn)
            conn.sendall(b"454 TLS not available due to temporary reason\r\n")
            return
        tls = context.wrap_socket(conn, server_side=True)
        try:
            tls.recv(1)
        except (OSError, ssl.SSLError):
            pass
        tls.close()
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def listen(port, kind, context):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, port))
    listener.listen(64)

    def loop():
        while True:
            conn, dummy = listener.accept()
            threading.Thread(target=handle, args=(conn, kind, context), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return listener


class SinkHandler:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        return "250 OK"


def serve(root_dir):
    from aiosmtpd.controller import Controller

    listeners = []
    for label, port, kind in SERVERS:
        if kind == "smtp":
            controller = Controller(
                SinkHandler(),
                hostname=HOST,
                port=port,
                tls_context=server_context(root_dir, label),
                require_starttls=False,
                ready_timeout=10,
            )
            controller.start()
            listeners.append(controller)
            continue
        listeners.append(listen(port, kind, server_context(root_dir, label, max_tls12=(kind == "tls12"))))
    write(os.path.join(root_dir, "ready"), b"ok\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait()


def start(root_dir):
    os.makedirs(root_dir, exist_ok=True)
    for dummy, port, dummy_kind in SERVERS + [("closed", 18609, "closed")]:
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                raise SystemExit("%s:%d is in use; the test needs it" % (HOST, port))
    facts = make_pki(root_dir)
    # Other tests on this machine start PostgreSQL clusters on ports of their choosing: take one that is free now.
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        facts["pg_port"] = probe.getsockname()[1]
    log = open(os.path.join(root_dir, "servers.log"), "wb")
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "serve", root_dir],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    write(os.path.join(root_dir, "servers.pid"), b"%d\n" % child.pid)
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(root_dir, "ready")):
        if child.poll() is not None or time.monotonic() > deadline:
            with open(os.path.join(root_dir, "servers.log"), "rb") as handle:
                raise SystemExit("the servers did not start:\n" + handle.read().decode(errors="replace")[-3000:])
        time.sleep(0.1)
    print(json.dumps(facts))


def stop_servers(root_dir):
    try:
        with open(os.path.join(root_dir, "servers.pid")) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for dummy in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop", "serve"):
        raise SystemExit(__doc__)
    command, root_dir = sys.argv[1], sys.argv[2]
    if command == "start":
        start(root_dir)
    elif command == "serve":
        serve(root_dir)
    else:
        stop_servers(root_dir)


if __name__ == "__main__":
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    main()
