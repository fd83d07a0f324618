# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module util is PRIVATE to the stronghold.ops collection: its interface may change
# between any two releases. Do not import it from outside the collection.
"""TLS endpoints and certificate files: fetch the certificates, judge them.

Fetching (``fetch_endpoint``) does the TLS handshake with verification OFF, so the chain the
server presents comes back even when it is expired, untrusted or for another host; trust,
hostname, expiry and strength are then judged from the certificates with ``cryptography``
(``x509.verification`` for the chain), each as its own reason. Everything that only looks at
data (thresholds, chain order, hostname patterns, the verdict) is a pure function, unit tested
without a network.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import ipaddress
import os
import re
import socket
import ssl
import stat
import struct
import time
import warnings
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Optional

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import pkcs7
    from cryptography.x509 import verification as x509_verification

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the target host
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_ERROR = exc
    x509 = x509_verification = pkcs7 = None  # type: ignore[assignment]

STARTTLS_PROTOCOLS = ("postgres", "smtp", "imap", "pop3", "ftp")
TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
ERROR_KINDS = ("dns", "connect", "timeout", "handshake", "verify", "file", "parse")
STATUSES = ("ok", "warning", "critical", "error")
STATUS_SEVERITY = {"ok": "ok", "warning": "warning", "critical": "critical"}
WEAK_SIGNATURE_HASHES = ("md5", "sha1", "md2", "md4")
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256
_POSTGRES_SSLREQUEST = struct.pack("!II", 8, 80877103)

# Plain data about one certificate (describe_certificate), and the verdict on one target.
Info = dict[str, Any]
Result = dict[str, Any]
# (content, detail, problem, certificates) of one block of a file.
Classified = tuple[Optional[str], Optional[str], Optional[str], list[Any]]


class FetchError(Exception):
    """The endpoint gave no certificate; ``kind`` is one of dns, connect, timeout, handshake."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# --- time and numbers --------------------------------------------------------------------


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400.0


# --- thresholds (pure) -------------------------------------------------------------------


def check_thresholds(
    warning_days: Any,
    critical_days: Any,
    min_fraction: Optional[float] = None,
    critical_fraction: Optional[float] = None,
) -> Optional[str]:
    """Return an error message for inconsistent thresholds, or None."""
    for name, value in (("warning_days", warning_days), ("critical_days", critical_days)):
        if value is None or value < 0:
            return "%s must be a number of days >= 0, got %r" % (name, value)
    if warning_days < critical_days:
        return (
            "warning_days (%s) must not be lower than critical_days (%s): a certificate would turn critical before it warns"
            % (warning_days, critical_days)
        )
    for name, value in (("min_remaining_fraction", min_fraction), ("critical_remaining_fraction", critical_fraction)):
        if value is not None and not 0 < value < 1:
            return "%s must lie between 0 and 1 (exclusive), got %r" % (name, value)
    if min_fraction is not None and critical_fraction is not None and min_fraction < critical_fraction:
        return "min_remaining_fraction (%s) must not be lower than critical_remaining_fraction (%s)" % (
            min_fraction,
            critical_fraction,
        )
    return None


def expiry_severity(
    days_remaining: float,
    lifetime_days: float,
    warning_days: float,
    critical_days: float,
    min_fraction: Optional[float] = None,
    critical_fraction: Optional[float] = None,
) -> tuple[str, Optional[str]]:
    """(severity, reason or None) of one certificate's dates.

    Expired (days_remaining < 0) is critical. Otherwise a certificate reaches a threshold when
    its days remaining are strictly below ``critical_days`` / ``warning_days``, or when the
    remaining share of its lifetime is strictly below ``critical_fraction`` / ``min_fraction``.
    """
    if days_remaining < 0:
        return "critical", "expired %.1f days ago" % -days_remaining
    fraction = days_remaining / lifetime_days if lifetime_days > 0 else 0.0
    for severity, days, share in (
        ("critical", critical_days, critical_fraction),
        ("warning", warning_days, min_fraction),
    ):
        if days_remaining < days:
            return severity, "expires in %.1f days (%s threshold %s days)" % (days_remaining, severity, _num(days))
        if share is not None and fraction < share:
            return severity, "expires in %.1f days, %.0f%% of its %.0f-day lifetime left (%s threshold %.0f%%)" % (
                days_remaining,
                fraction * 100,
                lifetime_days,
                severity,
                share * 100,
            )
    return "ok", None


def _num(value: float) -> str:
    return ("%d" % value) if float(value).is_integer() else ("%s" % value)


def worse(first: str, second: str) -> str:
    order = {"ok": 0, "info": 1, "warning": 2, "critical": 3}
    return first if order[first] >= order[second] else second


# --- hostname (pure) ---------------------------------------------------------------------


def hostname_matches(hostname: str, dns_names: Iterable[str], ip_addresses: Iterable[str]) -> bool:
    """RFC 6125 matching of ``hostname`` against the SAN of a certificate.

    An IP address matches only an iPAddress entry. A DNS name matches a dNSName entry exactly
    (case-insensitive) or a wildcard entry ``*.example.com`` that stands for exactly one
    left-most label. The subject CN is never used (as browsers and Python's ssl do).
    """
    try:
        address = ipaddress.ip_address(hostname)
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(a) == address for a in ip_addresses)
    name = hostname.rstrip(".").lower()
    for pattern in dns_names:
        pattern = pattern.rstrip(".").lower()
        if pattern == name:
            return True
        if pattern.startswith("*.") and "*" not in pattern[2:]:
            head, dot, rest = name.partition(".")
            if dot and head and rest == pattern[2:]:
                return True
    return False


# --- chain order (pure) ------------------------------------------------------------------


def chain_problems(chain: list[Info], store_subjects: Iterable[str]) -> tuple[bool, bool, list[str]]:
    """Problems of a presented chain: (complete, in_order, reasons).

    ``chain`` is the list the server sent, leaf first, each a dict with ``subject``, ``issuer``,
    ``self_signed`` and ``issued_by_next`` (the certificate's signature verifies with the key of
    the next one). ``store_subjects`` are the subjects of the trust anchors.
    """
    reasons = []
    in_order = True
    for index in range(len(chain) - 1):
        current = chain[index]
        if current["self_signed"] or current.get("issued_by_next"):
            continue
        if any(other["subject"] == current["issuer"] for other in chain[index + 1 :] + chain[:index]):
            in_order = False
            reasons.append(
                "chain out of order: certificate %d (%s) is not followed by its issuer (%s)"
                % (index, current["subject"], current["issuer"])
            )
        else:
            in_order = False
            reasons.append(
                "chain out of order: certificate %d (%s) is followed by %s, which did not issue it"
                % (index, current["subject"], chain[index + 1]["subject"])
            )
    complete = True
    subjects = set(c["subject"] for c in chain)
    for cert in chain:
        if cert["self_signed"]:
            continue
        if cert["issuer"] not in subjects and cert["issuer"] not in store_subjects:
            complete = False
            reasons.append(
                "chain incomplete: the issuer of %s (%s) was not sent and is not a trusted root"
                % (cert["subject"], cert["issuer"])
            )
    return complete, in_order, reasons


# --- one certificate ---------------------------------------------------------------------


def key_description(public_key: Any) -> tuple[str, Optional[int], Optional[str]]:
    """(type, bits, curve) of a public key."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return "RSA", public_key.key_size, None
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "EC", public_key.curve.key_size, public_key.curve.name
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "Ed448", 456, None
    if isinstance(public_key, dsa.DSAPublicKey):
        return "DSA", public_key.key_size, None
    return type(public_key).__name__, None, None


def weak_key_reason(key_type: str, bits: int) -> Optional[str]:
    if key_type == "RSA" and bits < MIN_RSA_BITS:
        return "weak key: RSA %d bits (minimum %d)" % (bits, MIN_RSA_BITS)
    if key_type == "EC" and bits < MIN_EC_BITS:
        return "weak key: EC %d bits (minimum %d)" % (bits, MIN_EC_BITS)
    if key_type == "DSA":
        return "weak key: DSA %d bits (DSA is deprecated)" % bits
    return None


def _not_before(cert: x509.Certificate) -> datetime:
    try:
        return cert.not_valid_before_utc
    except AttributeError:  # cryptography < 42
        return cert.not_valid_before.replace(tzinfo=timezone.utc)


def _not_after(cert: x509.Certificate) -> datetime:
    try:
        return cert.not_valid_after_utc
    except AttributeError:  # cryptography < 42
        return cert.not_valid_after.replace(tzinfo=timezone.utc)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # cryptography checks no MD5/SHA-1 signature ("Unsupported signature algorithm"): the
        # weak signature is its own reason; for the chain's shape, the names and key ids decide.
        return _key_ids_match(cert, issuer)
    return True


def _key_ids_match(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return True
    return aki is None or aki == ski


def describe_certificate(cert: x509.Certificate, now: datetime) -> Info:
    """Plain data about one certificate (no judgement but its own facts)."""
    not_before, not_after = _not_before(cert), _not_after(cert)
    key_type, bits, curve = key_description(cert.public_key())
    try:
        hash_name = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else None
    except UnsupportedAlgorithm:
        hash_name = None
    try:
        sig_name = cert.signature_algorithm_oid._name  # pylint: disable=protected-access
    except AttributeError:
        sig_name = cert.signature_algorithm_oid.dotted_string
    dns_names: list[str] = []
    ip_addresses: list[str] = []
    is_ca = False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
        ip_addresses = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    try:
        is_ca = bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        pass
    lifetime = days_between(not_before, not_after)
    remaining = days_between(now, not_after)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": "%x" % cert.serial_number,
        "not_before": iso(not_before),
        "not_after": iso(not_after),
        "days_remaining": round(remaining, 3),
        "lifetime_days": round(lifetime, 3),
        "remaining_fraction": round(remaining / lifetime, 4) if lifetime > 0 else 0.0,
        "not_yet_valid": now < not_before,
        "key": "%s %s" % (key_type, bits) if bits else key_type,
        "key_type": key_type,
        "key_bits": bits,
        "key_curve": curve,
        "signature_algorithm": sig_name,
        "signature_hash": hash_name,
        "self_signed": _issued_by(cert, cert),
        "is_ca": is_ca,
        "dns_names": dns_names,
        "ip_addresses": ip_addresses,
        "fingerprint_sha256": fingerprint(cert),
    }


def _cached(cache: Optional[dict[Any, Any]], key: Any, compute: Callable[[], Any]) -> Any:
    """``compute()``, remembered in ``cache`` under ``key`` (no cache: computed every time)."""
    if cache is None:
        return compute()
    try:
        return cache[key]
    except KeyError:
        return cache.setdefault(key, compute())


def described(cert: x509.Certificate, now: datetime, cache: Optional[dict[Any, Any]] = None) -> Info:
    """describe_certificate, once per certificate and ``now`` in ``cache`` (a dict kept for one run).

    Endpoints of one fleet send the same intermediates: each is parsed and described once. The
    caller gets its own copy (judge_chain adds keys to it).
    """
    if cache is None:
        return describe_certificate(cert, now)
    info = _cached(
        cache, ("describe", cert.public_bytes(serialization.Encoding.DER), now), lambda: describe_certificate(cert, now)
    )
    return dict(info, dns_names=list(info["dns_names"]), ip_addresses=list(info["ip_addresses"]))


def issued_by(cert: x509.Certificate, issuer: x509.Certificate, cache: Optional[dict[Any, Any]] = None) -> bool:
    """Whether ``issuer`` signed ``cert`` (names, then the signature), remembered in ``cache``."""
    if cache is None:
        return _issued_by(cert, issuer)
    key = ("issued_by", cert.public_bytes(serialization.Encoding.DER), issuer.public_bytes(serialization.Encoding.DER))
    return bool(_cached(cache, key, lambda: _issued_by(cert, issuer)))


def fingerprint(cert: x509.Certificate) -> str:
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def normalize_fingerprint(value: str) -> Optional[str]:
    text = value.replace(":", "").replace(" ", "").strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        return None
    return text


def judge_certificate(info: Info, options: dict[str, Any]) -> tuple[str, list[str]]:
    """(severity, reasons) of one described certificate: dates, key, signature, validity span."""
    severity, reasons = "ok", []
    if info["not_yet_valid"]:
        severity = "critical"
        reasons.append("not yet valid (valid from %s)" % info["not_before"])
    else:
        level, reason = expiry_severity(
            info["days_remaining"],
            info["lifetime_days"],
            options["warning_days"],
            options["critical_days"],
            options.get("min_remaining_fraction"),
            options.get("critical_remaining_fraction"),
        )
        if reason:
            severity = worse(severity, level)
            reasons.append(reason)
    weak = weak_key_reason(info["key_type"], info["key_bits"] or 0)
    if weak:
        severity = "critical"
        reasons.append(weak)
    # A trust anchor's own signature is never checked by clients: only flag issued certificates.
    if info["signature_hash"] in WEAK_SIGNATURE_HASHES and not info["self_signed"]:
        severity = "critical"
        reasons.append("weak signature: %s (%s)" % (info["signature_hash"].upper(), info["signature_algorithm"]))
    max_validity = options.get("max_validity_days")
    if max_validity and not info["is_ca"] and info["lifetime_days"] > max_validity:
        severity = worse(severity, "warning")
        reasons.append(
            "validity of %.0f days exceeds max_validity_days %s" % (info["lifetime_days"], _num(max_validity))
        )
    return severity, reasons


# --- trust -------------------------------------------------------------------------------


def load_trust_anchors(ca_path: Optional[str] = None) -> tuple[list[x509.Certificate], Optional[str]]:
    """(certificates, source) from ``ca_path`` (a PEM bundle or a directory of PEM files) or the system store."""
    sources = []
    if ca_path:
        sources = [ca_path]
    else:
        paths = ssl.get_default_verify_paths()
        for candidate in (
            os.environ.get("SSL_CERT_FILE"),
            paths.cafile,
            paths.openssl_cafile,
            os.environ.get("SSL_CERT_DIR"),
            paths.capath,
            paths.openssl_capath,
        ):
            if candidate and os.path.exists(candidate):
                sources = [candidate]
                break
    anchors = []
    for source in sources:
        if os.path.isdir(source):
            try:
                names = sorted(os.listdir(source))
            except OSError as exc:
                raise FileError("%s cannot be read: %s" % (source, exc.strerror or exc)) from exc
            for name in names:
                full = os.path.join(source, name)
                if os.path.isfile(full):
                    try:
                        anchors.extend(load_file_certificates(full))
                    except FileError:
                        pass
        else:
            anchors.extend(load_file_certificates(source))
    unique: dict[bytes, x509.Certificate] = {}
    for cert in anchors:
        unique.setdefault(cert.fingerprint(hashes.SHA256()), cert)
    return list(unique.values()), (sources[0] if sources else None)


def verification_time(certs: list[x509.Certificate], now: datetime) -> datetime:
    """``now`` clamped into the window where every presented certificate is valid.

    Expiry is its own reason (with thresholds); the trust check asks only whether the chain
    leads to a trusted root, so it is made at a moment when the presented dates do not matter.
    """
    start = max(_not_before(c) for c in certs)
    end = min(_not_after(c) for c in certs)
    if start > end:
        return now
    if now < start:
        return start
    if now > end:
        return end
    return now


def make_store(anchors: list[x509.Certificate]) -> Optional[x509_verification.Store]:
    """One cryptography Store for every chain of a run (building it parses the anchors again)."""
    return x509_verification.Store(anchors) if anchors else None


def hostname_refusal(message: Optional[str]) -> bool:
    """Whether cryptography's server verifier refused the leaf for its names (not for another reason)."""
    return bool(message) and "subjectAltName" in str(message)


def verify_chain(
    certs: list[x509.Certificate],
    anchors: list[x509.Certificate],
    hostname: Optional[str],
    now: datetime,
    store: Optional[x509_verification.Store] = None,
    path: Optional[list[x509.Certificate]] = None,
) -> tuple[bool, Optional[bool], Optional[str]]:
    """(trusted, hostname_verified, message) from cryptography's X.509 path validation.

    The server verifier checks the chain, the serverAuth key usage and the hostname together;
    when it refuses, a client verifier with a permissive leaf policy tells whether the chain
    itself is trusted (then the leaf, i.e. the hostname or its key usage, is what failed).
    ``path``, when given, receives the chain the verifier built and checked (leaf to root).
    """
    if not anchors:
        return False, None, "no trust anchors (empty CA store)"
    store = store or x509_verification.Store(anchors)
    when = verification_time(certs, now)
    leaf, intermediates = certs[0], certs[1:]
    base = x509_verification.PolicyBuilder().store(store).time(when.replace(tzinfo=None) if when.tzinfo else when)
    server_error = None
    if hostname:
        subject: x509_verification.Subject
        try:
            address = ipaddress.ip_address(hostname)
            subject = x509_verification.IPAddress(address)
        except ValueError:
            subject = x509_verification.DNSName(hostname.rstrip("."))
        try:
            built = base.build_server_verifier(subject).verify(leaf, intermediates)
            if path is not None:
                path.extend(built)
            return True, True, None
        except (x509_verification.VerificationError, ValueError) as exc:
            server_error = str(exc)
    try:
        permissive = base.extension_policies(
            ca_policy=x509_verification.ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=x509_verification.ExtensionPolicy.permit_all(),
        )
        verified = permissive.build_client_verifier().verify(leaf, intermediates)
        if path is not None:
            path.extend(verified.chain)
    except (x509_verification.VerificationError, ValueError, TypeError, AttributeError) as exc:
        return False, None, str(exc)
    return True, (False if hostname else None), server_error


# --- fetching ----------------------------------------------------------------------------


class _Deadline:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FetchError("timeout", "timed out")
        return left


def _recv_line(sock: socket.socket, deadline: _Deadline, buffer: list[bytes]) -> str:
    while b"\n" not in buffer[0]:
        sock.settimeout(deadline.remaining())
        chunk = sock.recv(4096)
        if not chunk:
            raise FetchError("handshake", "the server closed the connection during STARTTLS")
        buffer[0] += chunk
        if len(buffer[0]) > 65536:
            raise FetchError("handshake", "STARTTLS: line too long")
    line, rest = buffer[0].split(b"\n", 1)
    buffer[0] = rest
    return line.rstrip(b"\r").decode("utf-8", "replace")


def _recv_reply(sock: socket.socket, deadline: _Deadline, buffer: list[bytes]) -> list[str]:
    """A multi-line SMTP/FTP reply: ``250-...`` lines up to the ``250 ...`` one."""
    lines = []
    while True:
        line = _recv_line(sock, deadline, buffer)
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            return lines


def _send(sock: socket.socket, deadline: _Deadline, data: bytes) -> None:
    sock.settimeout(deadline.remaining())
    sock.sendall(data)


def _expect(condition: bool, protocol: str, line: str) -> None:
    if not condition:
        raise FetchError("handshake", "STARTTLS (%s) refused by the server: %s" % (protocol, line[:200]))


# STARTTLS of each line protocol, step by step: (the command sent, or None to read the greeting;
# how the answer is read: a multi-line "reply" (250-... up to 250 ...), one "line", or lines up to
# the "tagged" one of the command; the prefix the answer must have). IMAP's words are case-insensitive.
_STARTTLS_STEPS: dict[str, tuple[tuple[Optional[bytes], str, str], ...]] = {
    "smtp": (
        (None, "reply", "220"),
        (b"EHLO stronghold-cert-check.invalid\r\n", "reply", "250"),
        (b"STARTTLS\r\n", "reply", "220"),
    ),
    "ftp": ((None, "reply", "220"), (b"AUTH TLS\r\n", "reply", "234")),
    "imap": ((None, "line", "* OK"), (b"a1 STARTTLS\r\n", "tagged", "A1 OK")),
    "pop3": ((None, "line", "+OK"), (b"STLS\r\n", "line", "+OK")),
}


def _answer(sock: socket.socket, deadline: _Deadline, buffer: list[bytes], how: str) -> str:
    """The line of an answer that tells whether the command was accepted."""
    if how == "reply":
        return _recv_reply(sock, deadline, buffer)[-1]
    line = _recv_line(sock, deadline, buffer)
    while how == "tagged" and not line.startswith("a1 "):
        line = _recv_line(sock, deadline, buffer)
    return line


def starttls(sock: socket.socket, protocol: str, deadline: _Deadline) -> None:
    """Bring a plain connection to the point where the TLS handshake starts."""
    buffer = [b""]
    if protocol == "postgres":
        _send(sock, deadline, _POSTGRES_SSLREQUEST)
        sock.settimeout(deadline.remaining())
        answer = sock.recv(1)
        if answer != b"S":
            raise FetchError("handshake", "STARTTLS (postgres): the server does not accept SSL (answered %r)" % answer)
    for command, how, prefix in _STARTTLS_STEPS.get(protocol, ()):
        if command is not None:
            _send(sock, deadline, command)
        line = _answer(sock, deadline, buffer, how)
        _expect((line.upper() if protocol == "imap" else line).startswith(prefix), protocol, line)
    if buffer[0]:
        raise FetchError("handshake", "STARTTLS (%s): the server sent data before the TLS handshake" % protocol)


def client_context() -> ssl.SSLContext:
    """A context that completes the handshake with any certificate and any key size.

    Verification is off (CERT_NONE) so that an expired, untrusted or weak chain still comes
    back to be judged; the security level is 0 so that OpenSSL does not refuse a 1024-bit key
    or a SHA-1 chain before we can report it.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    except (ValueError, AttributeError):
        pass
    try:
        context.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:
        pass
    return context


def presented_chain_der(tls: ssl.SSLSocket) -> list[bytes]:
    """The certificates as the server sent them, leaf first (DER).

    Python 3.13 has SSLSocket.get_unverified_chain(); 3.10 to 3.12 have it on the private
    _sslobj only; older Pythons give the leaf alone.
    """
    getter = getattr(tls, "get_unverified_chain", None)
    if getter is None:
        sslobj = getattr(tls, "_sslobj", None)
        getter = getattr(sslobj, "get_unverified_chain", None)
    if getter is not None:
        chain = getter() or []
        der = []
        for item in chain:
            if isinstance(item, bytes):
                der.append(item)
            else:
                der.append(item.public_bytes(ssl._ssl.ENCODING_DER))  # type: ignore[attr-defined]  # pylint: disable=protected-access
        if der:
            return der
    leaf = tls.getpeercert(binary_form=True)
    return [leaf] if leaf else []


def fetch_endpoint(
    host: str,
    port: int,
    server_name: Optional[str],
    protocol: Optional[str],
    deadline_at: float,
    context: Optional[ssl.SSLContext] = None,
) -> dict[str, Any]:
    """Connect, STARTTLS when asked, handshake; return the presented chain and the session facts.

    Raises FetchError (kind dns, connect, timeout, handshake) when no certificate is presented.
    Every blocking step is bounded by ``deadline_at`` (time.monotonic()).
    """
    deadline = _Deadline(deadline_at)
    context = context or client_context()
    try:
        addresses = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError("dns", "cannot resolve %s: %s" % (host, exc.strerror or exc)) from exc
    except UnicodeError as exc:
        raise FetchError("dns", "cannot resolve %s: %s" % (host, exc)) from exc
    sock = None
    last_error = None
    for family, socktype, proto, dummy, address in addresses:
        candidate = socket.socket(family, socktype, proto)
        try:
            candidate.settimeout(deadline.remaining())
            candidate.connect(address)
            sock = candidate
            break
        except socket.timeout:
            candidate.close()
            raise FetchError("timeout", "no TCP connection to %s:%s within the timeout" % (host, port)) from None
        except FetchError:
            candidate.close()
            raise
        except OSError as exc:
            candidate.close()
            last_error = exc
    if sock is None:
        raise FetchError(
            "connect", "cannot connect to %s:%s: %s" % (host, port, getattr(last_error, "strerror", None) or last_error)
        )
    tls = None
    try:
        peer = sock.getpeername()[0]
        if protocol:
            try:
                starttls(sock, protocol, deadline)
            except socket.timeout:
                raise FetchError("timeout", "STARTTLS (%s) got no answer within the timeout" % protocol) from None
            except OSError as exc:
                raise FetchError("handshake", "STARTTLS (%s) failed: %s" % (protocol, exc)) from exc
        sni: Optional[str] = server_name or host
        try:
            ipaddress.ip_address(server_name or host)
            sni = None  # SNI carries host names only
        except ValueError:
            pass
        sock.settimeout(deadline.remaining())
        try:
            tls = context.wrap_socket(sock, server_hostname=sni, do_handshake_on_connect=False)
            tls.settimeout(deadline.remaining())
            tls.do_handshake()
        except socket.timeout:
            raise FetchError(
                "timeout", "no TLS handshake within the timeout (the port accepts TCP but does not answer TLS)"
            ) from None
        except ssl.SSLError as exc:
            raise FetchError("handshake", "TLS handshake failed: %s" % (exc.reason or exc)) from exc
        except OSError as exc:
            raise FetchError("handshake", "TLS handshake failed: %s" % (exc.strerror or exc)) from exc
        der = presented_chain_der(tls)
        if not der:
            raise FetchError("handshake", "the server presented no certificate")
        cipher = tls.cipher()
        return {"der": der, "tls_version": tls.version(), "cipher": cipher[0] if cipher else None, "address": peer}
    finally:
        (tls or sock).close()


# --- files -------------------------------------------------------------------------------


def expand_files(patterns: Iterable[str]) -> list[tuple[str, Optional[str]]]:
    """[(pattern, path or None)]: each path a pattern names, or (pattern, None) when none.

    Every match is kept, whatever it is (directory, FIFO, dangling link): read_regular_file
    then says what it is in the same words as when the path is named directly. A pattern that
    names an existing path is that path, even when it holds glob characters (``cert[1].pem``).
    """
    out: list[tuple[str, Optional[str]]] = []
    for pattern in patterns:
        if glob.has_magic(pattern) and not os.path.lexists(pattern):
            matches = sorted(glob.glob(pattern))
            if not matches:
                out.append((pattern, None))
            out.extend((pattern, path) for path in matches)
        else:
            out.append((pattern, pattern))
    return out


def load_der_chain(der_list: Iterable[bytes]) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(der) for der in der_list]


# --- files: what a certificate file holds ------------------------------------------------
#
# A file is read only when it is a regular file (or a symbolic link to one), never past
# MAX_FILE_BYTES; a FIFO, a device or a socket is never opened (a FIFO blocks, a device may
# act on open). Its bytes are then read block by block, and every block is reported by what
# it is. Key material never leaves this section: blocks are described by label, kind, line and
# key type, and no exception text of a parser is passed on (it could quote the input).

MAX_FILE_BYTES = 16 * 1024 * 1024
_PEM_MARKER = re.compile(rb"^-----(BEGIN|END) ([^\x00-\x1f]*?)-----$")
_CERTIFICATE_LABELS = ("CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE")
_PKCS7_LABELS = ("PKCS7", "PKCS #7 SIGNED DATA", "CMS")
_REQUEST_LABELS = ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
_PUBLIC_KEY_LABELS = ("PUBLIC KEY", "RSA PUBLIC KEY")
_PARAMETER_LABELS = ("DH PARAMETERS", "X9.42 DH PARAMETERS", "EC PARAMETERS", "DSA PARAMETERS")
# PFX: SEQUENCE { INTEGER 3, ContentInfo { OID pkcs7-data ... } } (RFC 7292)
_PFX_VERSION = b"\x02\x01\x03\x30"
_PKCS7_DATA_OID = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01"


class FileError(Exception):
    """The path names no regular file that can be read; the message says what it is instead."""


def special_file_kind(mode: int) -> Optional[str]:
    """What a non-regular file is, from its stat mode, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _not_regular(path: str, kind: str) -> FileError:
    return FileError("%s is %s, not a regular file: not read" % (path, kind))


def read_regular_file(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (symbolic links followed), at most ``limit`` of them.

    Raises FileError, with one wording per problem whichever way the path was found: missing,
    dangling symbolic link, directory, FIFO, socket, device, unreadable, larger than ``limit``.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            raise FileError("%s is a dangling symbolic link (to %s): not read" % (path, target)) from None
        raise FileError("%s does not exist (no such file or directory)" % path) from None
    except OSError as exc:
        raise FileError("%s cannot be read: %s" % (path, exc.strerror or exc)) from exc
    kind = special_file_kind(info.st_mode)
    if kind:
        raise _not_regular(path, kind)
    if info.st_size > limit:
        raise FileError("%s is larger than %d MiB (%d bytes): not read" % (path, limit // (1024 * 1024), info.st_size))
    try:
        # O_NONBLOCK: should the path turn into a FIFO after the stat above, open must not wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise FileError("%s cannot be read: %s" % (path, exc.strerror or exc)) from exc
    with os.fdopen(descriptor, "rb") as handle:
        kind = special_file_kind(os.fstat(descriptor).st_mode)
        if kind:
            raise _not_regular(path, kind)
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise FileError("%s cannot be read: %s" % (path, exc.strerror or exc)) from exc
    if len(data) > limit:
        # A file whose size stat does not tell (such as under /proc) is bounded all the same.
        raise FileError("%s is larger than %d MiB: not read" % (path, limit // (1024 * 1024)))
    return data


def _quietly(loader: Callable[..., Any], *args: Any) -> Any:
    """``loader(*args)`` or None; the parser's own message is dropped, since it may quote the input."""
    try:
        with warnings.catch_warnings():
            # System bundles hold old roots that newer cryptography warns about (negative serials).
            warnings.simplefilter("ignore")
            return loader(*args)
    except Exception:  # pylint: disable=broad-exception-caught
        return None


def _first_der_element(data: bytes) -> bytes:
    """The first DER TLV of ``data`` (an OpenSSL TRUSTED CERTIFICATE is a certificate then its trust settings)."""
    if len(data) < 2 or data[0] != 0x30:
        return data
    size = data[1]
    if size < 0x80:
        return data[: 2 + size]
    count = size & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        return data
    return data[: 2 + count + int.from_bytes(data[2 : 2 + count], "big")]


def _key_text(public_key: Any) -> str:
    key_type, bits, dummy = key_description(public_key)
    return "%s %s" % (key_type, bits) if bits else key_type


def _private_key_entry(loader: Callable[..., Any], data: bytes) -> tuple[str, Optional[str], Optional[str]]:
    """(content, detail, problem) of private key data that ``loader(data, password)`` parses."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            key = loader(data, None)
    except TypeError:
        return "private_key", "encrypted", None
    except Exception:  # pylint: disable=broad-exception-caught
        return "private_key", None, "does not decode as a private key"
    return "private_key", _key_text(key.public_key()), None


def _pem_text(label: bytes, der: bytes) -> bytes:
    body = base64.encodebytes(der)
    return b"-----BEGIN " + label + b"-----\n" + body + b"-----END " + label + b"-----\n"


def _classify_pem_block(label: bytes, body_lines: list[bytes]) -> Classified:
    """(content, detail, problem, certificates) of one complete PEM block."""
    headers = []
    position = 0
    if body_lines and b":" in body_lines[0]:
        while position < len(body_lines) and b":" in body_lines[position]:
            headers.append(body_lines[position])
            position += 1
        if position < len(body_lines) and not body_lines[position].strip():
            position += 1
    text = b"".join(b"".join(line.split()) for line in body_lines[position:])
    name = label.decode("ascii", "replace")
    private = name.endswith("PRIVATE KEY")
    content = (
        "certificate"
        if name in _CERTIFICATE_LABELS
        else "certificates"
        if name in _PKCS7_LABELS
        else "private_key"
        if private
        else "public_key"
        if name in _PUBLIC_KEY_LABELS
        else "certificate_request"
        if name in _REQUEST_LABELS
        else "crl"
        if name == "X509 CRL"
        else "parameters"
        if name in _PARAMETER_LABELS
        else "unknown"
    )
    if not text:
        return content, None, "is empty: nothing between BEGIN and END", []
    try:
        der = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error
        return content, None, "has invalid base64 text", []
    if name in _CERTIFICATE_LABELS:
        cert = _quietly(
            x509.load_der_x509_certificate, _first_der_element(der) if name == "TRUSTED CERTIFICATE" else der
        )
        if cert is None:
            return content, None, "decodes, but is not a valid X.509 certificate", []
        return content, cert.subject.rfc4514_string(), None, [cert]
    if name in _PKCS7_LABELS:
        certs = _quietly(pkcs7.load_der_pkcs7_certificates, der)
        if certs is None:
            return content, None, "decodes, but is not a valid PKCS#7 certificate bundle", []
        return content, "%d certificate(s)" % len(certs), None, list(certs)
    pem_text = _pem_text(label, der)
    if private:
        if name == "ENCRYPTED PRIVATE KEY" or any(h.startswith(b"Proc-Type:") and b"ENCRYPTED" in h for h in headers):
            return content, "encrypted", None, []
        loader = (
            serialization.load_ssh_private_key if name == "OPENSSH PRIVATE KEY" else serialization.load_pem_private_key
        )
        return _private_key_entry(loader, pem_text) + ([],)
    checks: dict[str, tuple[Callable[[bytes], Any], bytes, str]] = {
        "public_key": (serialization.load_pem_public_key, pem_text, "a public key"),
        "certificate_request": (x509.load_der_x509_csr, der, "a certificate signing request"),
        "crl": (x509.load_der_x509_crl, der, "a certificate revocation list"),
    }
    if content in checks:
        parse, argument, what = checks[content]
        parsed = _quietly(parse, argument)
        if parsed is None:
            return content, None, "decodes, but is not valid as %s" % what, []
        if content == "public_key":
            return content, _key_text(parsed), None, []
        if content in ("certificate_request", "crl"):
            return (
                content,
                (parsed.subject if content == "certificate_request" else parsed.issuer).rfc4514_string(),
                None,
                [],
            )
    return content, None, None, []


def split_pem(data: bytes) -> list[tuple[dict[str, Any], list[bytes]]]:
    """The PEM blocks of ``data``, line by line: [(entry, body lines)].

    ``entry`` is a dict with ``index`` (from 1), ``line`` (of the BEGIN, or of a stray END),
    ``label``, and ``problem`` for a block that is not whole: a BEGIN without its END (the block
    stops where the next BEGIN starts, so that the blocks after it are still read), an END
    without BEGIN, an END whose label differs from the BEGIN. Text outside blocks is skipped.
    """
    blocks: list[tuple[dict[str, Any], list[bytes]]] = []
    current: Optional[tuple[dict[str, Any], list[bytes]]] = None
    lines = data.splitlines()
    for number, raw in enumerate(lines, 1):
        match = _PEM_MARKER.match(raw.strip())
        if not match:
            if current is not None:
                current[1].append(raw)
            continue
        kind, label = match.group(1), match.group(2)
        if kind == b"BEGIN":
            if current is not None:
                current[0]["problem"] = "is cut: no END line before the next BEGIN at line %d" % number
                blocks.append(current)
            current = (
                {"index": len(blocks) + 1, "line": number, "label": label.decode("ascii", "replace"), "problem": None},
                [],
            )
        elif current is None:
            blocks.append(
                (
                    {
                        "index": len(blocks) + 1,
                        "line": number,
                        "label": label.decode("ascii", "replace"),
                        "problem": "is an END line without a BEGIN line",
                    },
                    [],
                )
            )
        else:
            if label.decode("ascii", "replace") != current[0]["label"]:
                current[0]["problem"] = "ends with a different label: END %s at line %d" % (
                    label.decode("ascii", "replace"),
                    number,
                )
            blocks.append(current)
            current = None
    if current is not None:
        current[0]["problem"] = "is cut: no END line before the end of the file (line %d)" % len(lines)
        blocks.append(current)
    return blocks


def _classify_der(data: bytes) -> Classified:
    """(content, detail, problem, certificates) of a file that is not PEM."""
    cert = _quietly(x509.load_der_x509_certificate, data)
    if cert is not None:
        return "certificate", cert.subject.rfc4514_string(), None, [cert]
    certs = _quietly(pkcs7.load_der_pkcs7_certificates, data)
    if certs:
        return "certificates", "%d certificate(s)" % len(certs), None, list(certs)
    content, detail, problem = _private_key_entry(serialization.load_der_private_key, data)
    if problem is None:
        return content, detail, None, []
    key = _quietly(serialization.load_der_public_key, data)
    if key is not None:
        return "public_key", _key_text(key), None, []
    request = _quietly(x509.load_der_x509_csr, data)
    if request is not None:
        return "certificate_request", request.subject.rfc4514_string(), None, []
    crl = _quietly(x509.load_der_x509_crl, data)
    if crl is not None:
        return "crl", crl.issuer.rfc4514_string(), None, []
    if data[:1] == b"\x30" and _PFX_VERSION in data[:8] and _PKCS7_DATA_OID in data[:32]:
        return "pkcs12", None, None, []
    return None, None, None, []


_CONTENT_WORDS = {
    "certificate": "a certificate",
    "certificates": "a PKCS#7 certificate bundle",
    "private_key": "a private key",
    "public_key": "a public key",
    "certificate_request": "a certificate signing request",
    "crl": "a certificate revocation list",
    "parameters": "key parameters",
    "pkcs12": "a PKCS#12 archive (cert_check reads PEM and DER; convert it with openssl pkcs12)",
    "unknown": "a kind of block cert_check does not know",
}


def describe_block(entry: dict[str, Any]) -> str:
    """One line about one block: where it is and what it is (never its contents)."""
    if entry["line"] is None:
        where = "the DER data"
    else:
        where = "PEM block %d at line %d (%s)" % (entry["index"], entry["line"], entry["label"])
    if entry["problem"]:
        return "%s %s" % (where, entry["problem"])
    what = _CONTENT_WORDS.get(entry["content"], entry["content"])
    if entry["detail"] and entry["content"] != "certificate":
        what += " (%s)" % entry["detail"]
    return "%s is %s" % (where, what)


def parse_certificate_data(data: bytes) -> dict[str, Any]:
    """What a certificate file holds (pure): a dict with ``format`` (pem, der or None),
    ``certificates`` (cryptography objects, in file order), ``blocks`` (one entry per block:
    index, line, label, content, detail, problem, certificate), ``private_key`` (bool),
    ``problems`` (one line per damaged block), ``notes`` (one line per block that is neither
    a certificate nor damaged, such as a private key), ``size`` and ``blank`` (only white space).
    """
    if data.startswith(b"\xef\xbb\xbf"):  # a byte order mark, as Windows editors write
        data = data[3:]
    certs: list[x509.Certificate] = []
    blocks: list[dict[str, Any]] = []
    form: Optional[str] = None
    if any(_PEM_MARKER.match(line.strip()) for line in data.splitlines() if line.lstrip().startswith(b"-----")):
        form = "pem"
        for entry, body in split_pem(data):
            entry.update(content=None, detail=None, certificate=None)
            if not entry["problem"]:
                content, detail, problem, found = _classify_pem_block(entry["label"].encode("ascii", "replace"), body)
                entry.update(content=content, detail=detail, problem=problem)
                if found:
                    entry["certificate"] = len(certs)
                    certs.extend(found)
            blocks.append(entry)
    else:
        content, detail, problem, found = _classify_der(data)
        form = "der" if content else None
        if content:
            blocks.append(
                {
                    "index": 1,
                    "line": None,
                    "label": None,
                    "content": content,
                    "detail": detail,
                    "problem": problem,
                    "certificate": 0 if found else None,
                }
            )
            certs.extend(found)
    return {
        "size": len(data),
        "blank": not data.strip(),
        "format": form,
        "certificates": certs,
        "blocks": blocks,
        # A damaged block labelled as a key counts: its text is likely key material all the same.
        "private_key": any(b["content"] == "private_key" or (b["label"] or "").endswith("PRIVATE KEY") for b in blocks),
        "problems": [describe_block(b) for b in blocks if b["problem"]],
        "notes": [
            describe_block(b)
            for b in blocks
            if not b["problem"] and b["content"] not in ("certificate", "certificates")
        ],
    }


def no_certificate_message(path: str, contents: dict[str, Any]) -> str:
    """Why a file that holds no certificate holds none, block by block."""
    if contents["size"] == 0:
        return "%s is empty" % path
    if contents["blank"]:
        return "%s holds only blank space (%d bytes)" % (path, contents["size"])
    if contents["format"] is None:
        return "%s holds no certificate: it is neither PEM nor DER data cert_check recognises (%d bytes)" % (
            path,
            contents["size"],
        )
    return "%s holds no certificate: %s" % (path, "; ".join(describe_block(b) for b in contents["blocks"]))


def load_file_certificates(path: str) -> list[x509.Certificate]:
    """Every certificate a file holds (see parse_certificate_data); FileError when it cannot be read."""
    return parse_certificate_data(read_regular_file(path))["certificates"]


# --- the verdict on one target -----------------------------------------------------------


def judge_chain(
    certs: list[x509.Certificate],
    options: dict[str, Any],
    now: datetime,
    anchors: Optional[list[x509.Certificate]] = None,
    anchor_subjects: Optional[set[str]] = None,
    hostname: Optional[str] = None,
    verify: bool = True,
    check_order: bool = True,
    expected_fingerprint: Optional[str] = None,
    tls_version: Optional[str] = None,
    store: Optional[x509_verification.Store] = None,
    cache: Optional[dict[Any, Any]] = None,
) -> Result:
    """Everything about one presented chain (leaf first), as plain data with a status.

    Returns a dict: status, severity, reasons, error_kind, chain (per certificate facts,
    severity and reasons), days_remaining (the least over the chain), not_after and subject of
    the certificate that expires first, hostname_match, trusted, chain_complete,
    chain_in_order, fingerprint_sha256 (of the leaf). ``cache``: a dict kept for the run, in which
    the description of each certificate and each issuer check are remembered (``now`` fixed).
    """
    chain: list[Info] = []
    severity = "ok"
    reasons: list[str] = []
    verdict = None
    signed = set()
    if verify:
        # Path validation first: each link of the path it built has its signature checked there,
        # and need not be checked again for the chain's order.
        path: list[x509.Certificate] = []
        verdict = verify_chain(certs, anchors or [], hostname, now, store, path)
        signed = set(zip(path, path[1:]))
    for index, cert in enumerate(certs):
        info = described(cert, now, cache)
        if index + 1 >= len(certs):
            info["issued_by_next"] = False
        elif (cert, certs[index + 1]) in signed:
            info["issued_by_next"] = True
        else:
            info["issued_by_next"] = issued_by(cert, certs[index + 1], cache)
        level, own = judge_certificate(info, options)
        info["severity"] = level
        info["reasons"] = own
        chain.append(info)
        severity = worse(severity, level)
        label = "leaf" if index == 0 and check_order else "certificate %d (%s)" % (index, info["subject"])
        reasons.extend("%s %s" % (label, r) for r in own)
    earliest = min(chain, key=lambda c: c["days_remaining"])
    leaf = chain[0]
    result = {
        "chain": chain,
        "days_remaining": earliest["days_remaining"],
        "not_after": earliest["not_after"],
        "expires_first": earliest["subject"],
        "fingerprint_sha256": leaf["fingerprint_sha256"],
        "hostname": hostname,
        "hostname_match": None,
        "trusted": None,
        "chain_complete": None,
        "chain_in_order": None,
        "verify_error": None,
        "error_kind": None,
    }
    if check_order:
        complete, in_order, order_reasons = chain_problems(chain, anchor_subjects or set())
        result["chain_complete"], result["chain_in_order"] = complete, in_order
        if not in_order:
            severity = worse(severity, "warning")
        if not complete:
            severity = "critical"
        reasons.extend(order_reasons)
    if hostname:
        result["hostname_match"] = hostname_matches(hostname, leaf["dns_names"], leaf["ip_addresses"])
    if verdict is not None:
        trusted, host_ok, message = verdict
        result["trusted"] = trusted
        if host_ok is not None and result["hostname_match"] is not None and hostname_refusal(message):
            # cryptography's verdict on the name wins when the chain is trusted; a leaf refused for
            # another reason (a missing extension) is not a hostname mismatch
            result["hostname_match"] = host_ok
        if not trusted:
            severity = "critical"
            result["error_kind"] = "verify"
            result["verify_error"] = message
            if leaf["self_signed"]:
                reasons.append("not trusted: the certificate is self-signed and not in the trust store")
            else:
                reasons.append("not trusted: %s" % _shorten(message))
        elif message and host_ok is False and result["hostname_match"] is not False:
            severity = "critical"
            result["error_kind"] = "verify"
            result["verify_error"] = message
            reasons.append("the leaf is refused for server use: %s" % message)
    if hostname and result["hostname_match"] is False:
        severity = "critical"
        result["error_kind"] = result["error_kind"] or "verify"
        names = leaf["dns_names"] + leaf["ip_addresses"]
        reasons.append(
            "hostname mismatch: %s is not in the certificate's names (%s)" % (hostname, ", ".join(names) or "no SAN")
        )
    if expected_fingerprint:
        if normalize_fingerprint(leaf["fingerprint_sha256"]) != expected_fingerprint:
            severity = "critical"
            reasons.append(
                "fingerprint mismatch: the leaf is %s, expected %s" % (leaf["fingerprint_sha256"], expected_fingerprint)
            )
    minimum = options.get("min_tls_version")
    if minimum and tls_version in TLS_VERSIONS and TLS_VERSIONS.index(tls_version) < TLS_VERSIONS.index(minimum):
        severity = "critical"
        reasons.append("negotiated %s, below min_tls_version %s" % (tls_version, minimum))
    result["status"] = severity
    result["severity"] = severity
    result["reasons"] = reasons
    return result


def judge_file(
    path: str, contents: dict[str, Any], options: dict[str, Any], now: datetime, **chain_options: Any
) -> Result:
    """The verdict on one certificate file from what parse_certificate_data found in it.

    No certificate is status error (kind parse) with a message that says what each block is.
    Otherwise the certificates are judged as a chain (judge_chain, ``chain_options``), and each
    damaged block is a critical reason of its own: a server that loads the file fails on it.
    Blocks that are neither certificates nor damaged (a private key in a combined PEM) are
    ``notes``, not problems.
    """
    certs = contents["certificates"]
    if not certs:
        result = error_result("parse", no_certificate_message(path, contents), "critical")
    else:
        result = judge_chain(certs, options, now, **chain_options)
        result["error"] = None
        if contents["problems"]:
            result["reasons"] = contents["problems"] + result["reasons"]
            result["status"] = result["severity"] = "critical"
            result["error_kind"] = result["error_kind"] or "parse"
    result.update(
        format=contents["format"],
        certificates=len(certs),
        blocks=contents["blocks"],
        private_key=contents["private_key"],
        notes=contents["notes"],
    )
    return result


def _shorten(message: Any, limit: int = 200) -> str:
    message = " ".join(str(message).split())
    return message if len(message) <= limit else message[: limit - 3] + "..."


def error_result(kind: str, message: str, severity: str) -> Result:
    return {
        "status": "error",
        "severity": severity,
        "reasons": [message],
        "error_kind": kind,
        "error": message,
        "chain": [],
        "days_remaining": None,
        "not_after": None,
        "expires_first": None,
        "fingerprint_sha256": None,
        "hostname_match": None,
        "trusted": None,
        "chain_complete": None,
        "chain_in_order": None,
        "verify_error": None,
    }


def summary_line(result: Result) -> str:
    """One line for the on-call person."""
    if result["status"] == "error":
        return "%s error: %s" % (result["error_kind"], result["error"])
    head = "expires in %.1f days (%s)" % (result["days_remaining"], result["not_after"][:10])
    if result["days_remaining"] < 0:
        head = "expired %.1f days ago (%s)" % (-result["days_remaining"], result["not_after"][:10])
    if len(result["chain"]) > 1 and result["expires_first"] != result["chain"][0]["subject"]:
        head += ", first to expire: %s" % result["expires_first"]
    notes = result.get("notes") or []
    tail = ("; also in the file: %s" % "; ".join(notes)) if notes else ""
    if result["reasons"]:
        return "%s: %s%s" % (result["status"], "; ".join(result["reasons"]), tail)
    return "ok: %s%s" % (head, tail)


def summarize(results: list[Result]) -> dict[str, Any]:
    counts: dict[str, Any] = dict((status, 0) for status in STATUSES)
    for result in results:
        counts[result["status"]] += 1
    order = {"ok": 0, "warning": 1, "critical": 2, "error": 3}
    worst = "ok"
    for result in results:
        if order[result["status"]] > order[worst]:
            worst = result["status"]
    days = [r["days_remaining"] for r in results if r["days_remaining"] is not None]
    counts.update(total=len(results), worst_status=worst, min_days_remaining=min(days) if days else None)
    return counts
