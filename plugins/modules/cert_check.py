#!/usr/bin/python
# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cert_check
short_description: Check many TLS endpoints and certificate files at once, with reasons an on-call person can act on
version_added: 0.1.0
author: Financial Stronghold operations team (@nullroute-commits)
description:
  - Replaces the runbook's "SSL certificate expires in < 7 days" alert. In one call, checks TLS
    endpoints (in parallel, with SNI and STARTTLS for PostgreSQL, SMTP, IMAP, POP3 and FTP) and
    certificate files (PEM, DER, bundles, globs).
  - For every certificate presented (leaf and intermediates) it reports the dates, the days
    remaining (a float) and the lifetime, and applies the thresholds to the whole chain; an
    intermediate that expires first makes the endpoint warn as much as the leaf would.
  - Endpoints are validated as a client would (unless turned off) with the C(cryptography)
    library's X.509 path validation against the system store or O(ca_path), the server name
    against the subject alternative names, and the chain as sent (complete and in order).
    Weak keys (RSA under 2048 bits, EC under 256 bits, DSA), MD5 or SHA-1 signatures, and
    optionally a too long validity, a too old TLS version or an unexpected fingerprint are
    reasons too.
  - The TLS handshake itself is done with verification off, so that an expired, untrusted,
    self-signed or misnamed certificate is still read and its problems reported one by one
    instead of as one handshake error.
  - An endpoint that gives no certificate has status V(error) and an RV(results[].error_kind)
    (V(dns), V(connect), V(timeout), V(handshake)), kept apart from expiry; its severity is
    O(unreachable_severity). A chain that is not trusted keeps its certificate data and gets
    C(error_kind=verify) with status V(critical).
  - Read-only; the task never reports a change.
options:
  endpoints:
    description: TLS endpoints to check.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: Host name or IP address to connect to.
        type: str
        required: true
      port:
        description: TCP port (1-65535).
        type: int
        default: 443
      server_name:
        description:
          - Name sent as SNI and checked against the certificate; defaults to O(endpoints[].host).
            Set it when connecting by address to a name-based virtual host.
        type: str
      starttls:
        description:
          - Protocol spoken before the TLS handshake. V(postgres) sends the SSLRequest, V(smtp)
            EHLO and STARTTLS, V(imap) STARTTLS, V(pop3) STLS, V(ftp) AUTH TLS.
        type: str
        choices: [postgres, smtp, imap, pop3, ftp]
      name:
        description: Display name of the target in results and findings; defaults to C(host:port).
        type: str
      timeout:
        description:
          - Time allowed for this endpoint, in seconds (V(5), V(2.5)) or as a duration (V(5s), V(500ms));
            defaults to O(timeout).
        type: raw
      expected_fingerprint:
        description:
          - SHA-256 fingerprint the leaf certificate must have (hex, colons optional); a different
            one is critical (certificate pinning).
        type: str
  files:
    description:
      - Certificate files or glob patterns, such as C(/etc/letsencrypt/live/*/fullchain.pem).
        An entry that names an existing path is that path, even when it holds glob characters.
      - PEM files are read block by block, and every block is reported (RV(results[].blocks)) as
        what it is. The certificates of C(CERTIFICATE), C(TRUSTED CERTIFICATE) and C(PKCS7) blocks
        are judged; a private key (as in a combined PEM for HAProxy), a public key, a request, a
        CRL or parameters are named in RV(results[].notes) and are not a problem; key material is
        never repeated in any result or message. Other files are read as DER (a certificate, a
        PKCS#7 bundle, or named as a key, request or CRL).
      - A damaged block (a BEGIN without its END line, an END without BEGIN, an END with another
        label, invalid base64, a certificate that does not parse) is a critical reason; the
        blocks after it are still read.
      - Only regular files (or symbolic links to them) up to 16 MiB are read. A FIFO, socket,
        device or directory is never opened, and is described in the same words whether it was
        named or matched by a pattern.
      - A path that does not exist or cannot be read, a pattern that matches nothing, or a file
        that holds no certificate is a target with status V(error), severity critical.
    type: list
    elements: path
    default: []
  warning_days:
    description:
      - A certificate (any in the chain) with fewer days remaining than this is a warning.
      - 25 by default, because certbot renews at 30 days left; under 25, several renewal
        attempts have already failed.
    type: float
    default: 25
  critical_days:
    description:
      - A certificate with fewer days remaining than this is critical (runbook, 7 days). Must not
        exceed O(warning_days). An expired or not yet valid certificate is always critical.
      - Day thresholds lie between 0 and 36500.
    type: float
    default: 7
  min_remaining_fraction:
    description:
      - Warn also when less than this share of a certificate's lifetime is left (0 to 1, such as
        V(0.33)); suits short-lived certificates for which day thresholds do not fit (then set
        O(warning_days) and O(critical_days) low).
    type: float
  critical_remaining_fraction:
    description: Critical when less than this share of the lifetime is left; not above O(min_remaining_fraction).
    type: float
  verify_chain:
    description: Validate endpoint chains up to a trusted root (system store or O(ca_path)).
    type: bool
    default: true
  verify_hostname:
    description: Check the server name (O(endpoints[].server_name) or host) against the leaf's subject alternative names.
    type: bool
    default: true
  verify_files:
    description:
      - Also validate each file as a chain (leaf first, then its issuers) against the trust
        store, with completeness and order. Off by default, since CA bundles are not chains.
    type: bool
    default: false
  ca_path:
    description:
      - A PEM bundle or a directory of PEM files to trust instead of the system store.
    type: path
  max_validity_days:
    description: A leaf (non-CA) certificate whose total validity is longer than this is a warning (such as V(398)).
    type: float
  min_tls_version:
    description: A negotiated TLS version below this is critical.
    type: str
    choices: [TLSv1, TLSv1.1, TLSv1.2, TLSv1.3]
  concurrency:
    description:
      - Endpoints checked at the same time (1-256), in all worker processes together.
    type: int
    default: 16
  result_details:
    description:
      - V(full) gives RV(results[].chain) (every certificate's facts and verdict) for every target.
      - V(problems) gives it only for targets that are not V(ok); an ok target keeps every other
        key (its dates, RV(results[].not_after), RV(results[].days_remaining), fingerprint, trust
        and hostname verdicts) and has an empty RV(results[].chain). For hundreds of endpoints,
        the result is then less than half the size, and Ansible reads and stores it faster.
      - The findings and the summary are the same either way.
    type: str
    choices: [full, problems]
    default: full
    version_added: 0.2.0
  processes:
    description:
      - Worker processes that share the endpoints (1-16), each checking its share with its own
        threads. Python threads run the certificate parsing and path validation one at a time;
        processes run them on every CPU.
      - By default one per CPU (at most 4) from 64 endpoints on, and none under 64 (the module's
        own process checks them). V(1) checks every endpoint in the module's own process. Never
        more than O(concurrency) or than the endpoints.
      - A worker that dies leaves its endpoints that were not checked yet with status V(error);
        at O(total_timeout) every worker is stopped.
    type: int
    version_added: 0.2.0
  timeout:
    description:
      - Time allowed for each endpoint, from DNS to the end of the handshake, in seconds (V(10),
        V(2.5)) or as a duration (V(10s), V(500ms)); more than 0 and at most an hour (3600
        seconds). Every number option of this module must be finite (no V(nan) or V(inf)).
    type: raw
    default: 10
  total_timeout:
    description:
      - Time allowed for the whole call, in seconds or as a duration (V(5m)), at most a day (86400
        seconds). An endpoint not done by then has status V(error) with C(error_kind=timeout).
    type: raw
    default: 300
  unreachable_severity:
    description: Severity of an endpoint that gives no certificate (DNS, connection, timeout or handshake error).
    type: str
    choices: [warning, critical]
    default: critical
extends_documentation_fragment:
  - stronghold.ops.attributes
  - stronghold.ops.fail_on
  - stronghold.ops.durations
  - stronghold.ops.findings
attributes:
  check_mode:
    details: The module only reads; it runs the same in check mode.
requirements:
  - cryptography >= 43 (X.509 path validation with extension policies)
notes:
  - Revocation (CRL, OCSP) is not checked.
  - On Python 3.10 to 3.12 the chain as sent is read through the private C(_sslobj) of the TLS
    socket (Python 3.13 made it public); on older Pythons only the leaf is read, and the chain
    checks then rely on the trust store.
  - Thresholds compare strictly; with O(critical_days=7), 6.99 days left is critical, 7.0 is not.
seealso:
  - module: community.crypto.get_certificate
    description: One host per task, no hostname check, skipped in check mode.
  - module: community.crypto.x509_certificate_info
    description: Details of one certificate file.
"""

EXAMPLES = r"""
- name: Daily certificate expiry of the web front, the database and the mail relay
  stronghold.ops.cert_check:
    endpoints:
      - {host: yourdomain.com, port: 443}
      - {host: 127.0.0.1, port: 5432, starttls: postgres, server_name: db.yourdomain.com, name: postgres}
      - {host: mail.yourdomain.com, port: 587, starttls: smtp}
    files:
      - /etc/letsencrypt/live/*/fullchain.pem
    warning_days: 25
    critical_days: 7
    fail_on: never
  register: certs

- name: Short-lived certificates, judged by the share of their lifetime
  stronghold.ops.cert_check:
    endpoints:
      - {host: api.internal.example, port: 8443}
    ca_path: /etc/pki/internal-ca.pem
    warning_days: 0
    critical_days: 0
    min_remaining_fraction: 0.33
    critical_remaining_fraction: 0.1

- name: Monthly full validation with policy checks and a pinned certificate
  stronghold.ops.cert_check:
    endpoints:
      - host: yourdomain.com
        expected_fingerprint: "9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08"
    max_validity_days: 398
    min_tls_version: TLSv1.2
    fail_on: warning
"""

RETURN = r"""
results:
  description: One entry per endpoint and per file, endpoints first, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    target:
      description: Display name (O(endpoints[].name), C(host:port), or the file path).
      type: str
      sample: 127.0.0.1:443
    kind:
      description: V(endpoint) or V(file).
      type: str
      sample: endpoint
    host:
      description: The endpoint's host (endpoints).
      type: str
      sample: 127.0.0.1
    port:
      description: The endpoint's port (endpoints).
      type: int
      sample: 443
    server_name:
      description: The name sent as SNI, when given (endpoints).
      type: str
      sample: www.example.test
    starttls:
      description: The STARTTLS protocol used, if any (endpoints).
      type: str
      sample: postgres
    address:
      description: The address connected to (endpoints); null when no connection was made.
      type: str
      sample: 127.0.0.1
    path:
      description: The file read (files); null for endpoints and for a pattern that matched nothing.
      type: str
      sample: /etc/letsencrypt/live/example.com/fullchain.pem
    pattern:
      description: The entry of O(files) that named this file (files).
      type: str
      sample: /etc/letsencrypt/live/*/fullchain.pem
    format:
      description: V(pem) or V(der) (files); null when the file could not be read or its data is neither.
      type: str
      sample: pem
    certificates:
      description: Number of certificates read from the file (files that could be read); null otherwise.
      type: int
      sample: 2
    private_key:
      description: Whether the file holds a private key, or a damaged block labelled as one (files that could be read); null otherwise.
      type: bool
      sample: false
    notes:
      description: One line per block that is neither a certificate nor damaged, such as a private key (files).
      type: list
      elements: str
      sample: ["PEM block 2 at line 31 (PRIVATE KEY) is a private key (RSA 2048)"]
    blocks:
      description: What each block of the file is, in file order (files that could be read); a DER file is one block.
      type: list
      elements: dict
      contains:
        index:
          description: Position of the block in the file, from 1.
          type: int
          sample: 1
        line:
          description: Line of its BEGIN (or of a stray END); null for DER data.
          type: int
          sample: 1
        label:
          description: The PEM label, such as C(CERTIFICATE) or C(RSA PRIVATE KEY); null for DER data.
          type: str
          sample: CERTIFICATE
        content:
          description:
            - V(certificate), V(certificates) (PKCS#7), V(private_key), V(public_key),
              V(certificate_request), V(crl), V(parameters), V(pkcs12) (DER only) or V(unknown);
              null for a block that is not whole.
          type: str
          sample: certificate
        detail:
          description: The subject of a certificate or request, the issuer of a CRL, a key's type and size, or V(encrypted).
          type: str
          sample: CN=www.example.test
        problem:
          description: "Why the block is damaged, such as C(is cut: no END line before the next BEGIN at line 30); null when whole."
          type: str
          sample: null
        certificate:
          description: Index in RV(results[].chain) of the block's (first) certificate; null for other blocks.
          type: int
          sample: 0
    verify_error:
      description: What the X.509 path validation refused, when it did; null otherwise.
      type: str
      sample: null
    status:
      description: V(ok), V(warning), V(critical), or V(error) when no certificate could be read.
      type: str
      sample: warning
    severity:
      description: Severity of the target's finding (for V(error), O(unreachable_severity) or critical for files).
      type: str
      sample: warning
    reasons:
      description: Every problem found, one line each; empty when ok.
      type: list
      elements: str
      sample: ["certificate 1 (CN=Stronghold Intermediate) expires in 3.0 days (critical threshold 7 days)"]
    error_kind:
      description:
        - V(dns), V(connect), V(timeout), V(handshake), V(verify) (chain not trusted or hostname refused), V(file) (not a
          readable regular file) or V(parse) (no certificate in the file, or a damaged block); null otherwise.
      type: str
      sample: null
    error:
      description: The error message when status is V(error).
      type: str
      sample: null
    days_remaining:
      description: Days (float) until the first certificate of the chain expires; negative when expired.
      type: float
      sample: 3.02
    not_after:
      description: Expiry (ISO 8601, UTC) of the certificate that expires first.
      type: str
      sample: "2026-11-30T13:00:00Z"
    expires_first:
      description: Subject of the certificate that expires first.
      type: str
      sample: CN=Stronghold Intermediate
    hostname:
      description: Name checked against the leaf; null for files and when O(verify_hostname=false).
      type: str
      sample: www.example.test
    hostname_match:
      description: Whether the name matched the leaf's subject alternative names; null when not checked.
      type: bool
      sample: true
    trusted:
      description: Whether the chain leads to a trusted root; null when not checked.
      type: bool
      sample: true
    chain_complete:
      description: Whether every certificate's issuer was sent or is a trusted root; null when not checked.
      type: bool
      sample: true
    chain_in_order:
      description: Whether each certificate is followed by its issuer; null when not checked.
      type: bool
      sample: true
    tls_version:
      description: Negotiated TLS version (endpoints).
      type: str
      sample: TLSv1.3
    cipher:
      description: Negotiated cipher suite (endpoints).
      type: str
      sample: TLS_AES_256_GCM_SHA384
    fingerprint_sha256:
      description: SHA-256 fingerprint of the leaf (the first certificate of a file).
      type: str
      sample: "9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08"
    duration_ms:
      description: Time spent on this endpoint.
      type: float
      sample: 12.4
    chain:
      description:
        - Each certificate as presented (leaf first) or as read from the file, with its own verdict.
        - Empty for an ok target when O(result_details=problems).
      type: list
      elements: dict
      contains:
        subject:
          description: Subject (RFC 4514).
          type: str
          sample: CN=www.example.test
        issuer:
          description: Issuer (RFC 4514).
          type: str
          sample: CN=Stronghold Intermediate
        serial:
          description: Serial number (hex).
          type: str
          sample: 1a2b3c
        not_before:
          description: Start of validity (ISO 8601, UTC).
          type: str
          sample: "2026-11-27T13:00:00Z"
        not_after:
          description: End of validity (ISO 8601, UTC).
          type: str
          sample: "2027-02-25T13:00:00Z"
        days_remaining:
          description: Days left until RV(results[].chain[].not_after); negative once expired.
          type: float
          sample: 90.0
        lifetime_days:
          description: Total validity in days.
          type: float
          sample: 90.0
        remaining_fraction:
          description: Share of the lifetime left (0 to 1).
          type: float
          sample: 1.0
        not_yet_valid:
          description: Whether RV(results[].chain[].not_before) is still ahead.
          type: bool
          sample: false
        key:
          description: Key type and size, such as C(RSA 2048).
          type: str
          sample: RSA 2048
        key_type:
          description: Key type (V(RSA), V(EC), V(Ed25519), V(Ed448), V(DSA), ...).
          type: str
          sample: RSA
        key_bits:
          description: Key size in bits; null when unknown.
          type: int
          sample: 2048
        key_curve:
          description: Curve of an EC key; null otherwise.
          type: str
          sample: null
        signature_algorithm:
          description: Signature algorithm.
          type: str
          sample: sha256WithRSAEncryption
        signature_hash:
          description: Hash of the signature; null when it has none (Ed25519).
          type: str
          sample: sha256
        self_signed:
          description: Whether the certificate is signed by its own key.
          type: bool
          sample: false
        is_ca:
          description: Whether the basic constraints make it a CA.
          type: bool
          sample: false
        dns_names:
          description: DNS names of the subject alternative names.
          type: list
          elements: str
          sample: [www.example.test]
        ip_addresses:
          description: IP addresses of the subject alternative names.
          type: list
          elements: str
          sample: []
        fingerprint_sha256:
          description: SHA-256 fingerprint.
          type: str
          sample: "9F:86:D0:81:88:4C:7D:65:9A:2F:EA:A0:C5:5A:D0:15:A3:BF:4F:1B:2B:0B:82:2C:D1:5D:6C:15:B0:F0:0A:08"
        issued_by_next:
          description: Whether the next certificate of the list issued this one.
          type: bool
          sample: true
        severity:
          description: Severity of this certificate alone (V(ok), V(warning), V(critical)).
          type: str
          sample: ok
        reasons:
          description: This certificate's problems, one line each.
          type: list
          elements: str
          sample: []
summary:
  description:
    - Counts of targets by status, their total, the worst status, the fewest days remaining, and
      the time spent checking every target (C(duration_ms)).
  returned: always
  type: dict
  sample: {ok: 3, warning: 1, critical: 1, error: 1, total: 6, worst_status: error, min_days_remaining: 3.02, duration_ms: 412.6}
findings:
  description: One finding per target (check C(certificates.endpoint) or C(certificates.file)), worst first.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: V(certificates.endpoint) or V(certificates.file).
      type: str
      sample: certificates.endpoint
    target:
      description: The target's display name, as RV(results[].target).
      type: str
      sample: 127.0.0.1:18444
    severity:
      description: V(ok), V(warning) or V(critical), as RV(results[].severity).
      type: str
      sample: critical
    summary:
      description: One line for the on-call person.
      type: str
      sample: "critical: leaf expires in 4.9 days (critical threshold 7 days)"
    details:
      description:
        - The target's status, days_remaining, not_after, expires_first, error_kind, reasons,
          hostname_match, trusted and fingerprint_sha256; for files also private_key and notes.
        - The run's O(warning_days) and O(critical_days), as C(warning_days) and C(critical_days).
      type: dict
      sample: {days_remaining: 4.9, not_after: "2026-12-02T10:00:00Z", status: critical, warning_days: 25, critical_days: 7}
  sample:
    - check: certificates.endpoint
      target: 127.0.0.1:18444
      severity: critical
      summary: "critical: leaf expires in 4.9 days (critical threshold 7 days)"
      details: {days_remaining: 4.9, not_after: "2026-12-02T10:00:00Z", status: critical, warning_days: 25, critical_days: 7}
worst_severity:
  description: Worst severity of RV(findings).
  returned: always
  type: str
  sample: critical
timings:
  description:
    - Where the module's time went, in milliseconds, to show its cost outside the checks.
    - C(startup_ms) from the start of the module's process to its first line (the interpreter,
      unpacking the module; null where the process start time cannot be read), C(imports_ms) its
      imports (Ansible's and cryptography), C(setup_ms) reading the arguments, the options and the
      trust store, C(checks_ms) the checks (as C(duration_ms) in RV(summary)), C(output_ms) building
      the findings and the summary; C(processes) and C(threads) (per process) used for the endpoints.
  returned: always
  type: dict
  version_added: 0.2.0
  sample: {startup_ms: 48.0, imports_ms: 95.1, setup_ms: 12.3, checks_ms: 412.6, output_ms: 8.1, processes: 2, threads: [8, 8]}
"""

import time

_IMPORTS_STARTED = time.monotonic()

import json  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import selectors  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402

from ansible.module_utils.basic import AnsibleModule, missing_required_lib  # noqa: E402

from ansible_collections.stronghold.ops.plugins.module_utils._cert_check import (  # noqa: E402
    build_output,
    check_options,
    deal,
    endpoint_result,
    file_result,
    needs_trust_store,
    plan_workers,
    trim_details,
    unchecked_endpoint,
)
from ansible_collections.stronghold.ops.plugins.module_utils._findings import FindingError  # noqa: E402
from ansible_collections.stronghold.ops.plugins.module_utils._options import (  # noqa: E402
    FAIL_ON_SPEC,
    argument_spec,
    duration_spec,
)
from ansible_collections.stronghold.ops.plugins.module_utils._tls import (  # noqa: E402
    CRYPTOGRAPHY_ERROR,
    HAS_CRYPTOGRAPHY,
    FetchError,
    FileError,
    client_context,
    error_result,
    expand_files,
    fetch_endpoint,
    judge_chain,
    judge_file,
    load_der_chain,
    load_trust_anchors,
    make_store,
    parse_certificate_data,
    read_regular_file,
    utcnow,
)

_IMPORTS_DONE = time.monotonic()
# A worker process gives the parent each endpoint's result as one line of JSON: [index, result].
_LINE_LIMIT = 16 * 1024 * 1024

ENDPOINT_OPTIONS = {
    "host": {"type": "str", "required": True},
    "port": {"type": "int", "default": 443},
    "server_name": {"type": "str"},
    "starttls": {"type": "str", "choices": ["postgres", "smtp", "imap", "pop3", "ftp"]},
    "name": {"type": "str"},
    "timeout": duration_spec(),
    "expected_fingerprint": {"type": "str"},
}

ARGUMENT_SPEC = argument_spec(
    FAIL_ON_SPEC,
    own={
        "endpoints": {"type": "list", "elements": "dict", "default": [], "options": ENDPOINT_OPTIONS},
        "files": {"type": "list", "elements": "path", "default": []},
        "warning_days": {"type": "float", "default": 25},
        "critical_days": {"type": "float", "default": 7},
        "min_remaining_fraction": {"type": "float"},
        "critical_remaining_fraction": {"type": "float"},
        "verify_chain": {"type": "bool", "default": True},
        "verify_hostname": {"type": "bool", "default": True},
        "verify_files": {"type": "bool", "default": False},
        "ca_path": {"type": "path"},
        "max_validity_days": {"type": "float"},
        "min_tls_version": {"type": "str", "choices": ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]},
        "concurrency": {"type": "int", "default": 16},
        "processes": {"type": "int"},
        "result_details": {"type": "str", "choices": ["full", "problems"], "default": "full"},
        "timeout": duration_spec(10),
        "total_timeout": duration_spec(300),
        "unreachable_severity": {"type": "str", "choices": ["warning", "critical"], "default": "critical"},
    },
)


class CertCheck:
    """One run: the validated settings and the trust store, then the endpoints and files checked."""

    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.settings = check_options(self.p)  # FindingError on bad input, before anything is read
        self.now = utcnow()
        self.anchors = self.trust_anchors()
        self.anchor_subjects = set(a.subject.rfc4514_string() for a in self.anchors)
        self.store = make_store(self.anchors)
        # One client context for every endpoint: wrap_socket may be called from several threads.
        self.context = client_context()
        # Descriptions of the certificates seen in this run (the intermediates endpoints share).
        self.cache = {}
        self.workers = [1]

    def trust_anchors(self):
        if self.p["ca_path"] is not None:
            try:
                anchors, dummy = load_trust_anchors(self.p["ca_path"])
            except FileError as exc:
                raise FileError("ca_path: %s" % exc) from exc
            if not anchors:
                raise FileError("ca_path %s holds no certificate" % self.p["ca_path"])
            return anchors
        if needs_trust_store(self.p):
            try:
                return load_trust_anchors(None)[0]
            except FileError as exc:
                self.module.warn("the system trust store cannot be read: %s" % exc)
        return []

    def chain_options(self):
        return {
            "anchors": self.anchors,
            "anchor_subjects": self.anchor_subjects,
            "store": self.store,
            "cache": self.cache,
        }

    def check_endpoint(self, endpoint, total_deadline):
        started = time.monotonic()
        deadline = min(started + endpoint["timeout"], total_deadline)
        hostname = (endpoint["server_name"] or endpoint["host"]) if self.p["verify_hostname"] else None
        severity = self.p["unreachable_severity"]
        try:
            fetched = fetch_endpoint(
                endpoint["host"],
                endpoint["port"],
                endpoint["server_name"],
                endpoint["starttls"],
                deadline,
                self.context,
            )
        except FetchError as exc:
            message = exc.message
            if exc.kind == "timeout" and deadline == total_deadline and started + endpoint["timeout"] > total_deadline:
                message += " (total_timeout reached)"
            result = error_result(exc.kind, message, severity)
        else:
            try:
                certs = load_der_chain(fetched["der"])
            except ValueError as exc:
                message = "the server sent a certificate that cannot be parsed: %s" % exc
                result = error_result("handshake", message, severity)
            else:
                result = judge_chain(
                    certs,
                    self.settings["judge"],
                    self.now,
                    hostname=hostname,
                    verify=self.p["verify_chain"],
                    check_order=True,
                    expected_fingerprint=endpoint["expected_fingerprint"],
                    tls_version=fetched["tls_version"],
                    **self.chain_options(),
                )
                result["error"] = None
            result.update(tls_version=fetched["tls_version"], cipher=fetched["cipher"], address=fetched["address"])
        result.setdefault("hostname", hostname)
        return endpoint_result(endpoint, result, round((time.monotonic() - started) * 1000.0, 1))

    def checked(self, index, endpoint, total_deadline):
        """One endpoint's result; None when total_timeout came first."""
        if time.monotonic() >= total_deadline:
            return None
        try:
            return self.check_endpoint(endpoint, total_deadline)
        except Exception:  # pylint: disable=broad-exception-caught
            # A bug in one endpoint's check must not lose the others' results.
            message = "unexpected error: %s" % traceback.format_exc().splitlines()[-1]
            return unchecked_endpoint(endpoint, "handshake", message, self.p["unreachable_severity"])

    def in_threads(self, indexes, threads, total_deadline):
        """(index, result) of the endpoints at ``indexes`` as they finish, ``threads`` at a time;
        stops at total_deadline (plus a second), leaving the rest unchecked."""
        endpoints = self.settings["endpoints"]
        todo = queue.Queue()
        for index in indexes:
            todo.put(index)
        done = queue.Queue()

        def worker():
            while True:
                try:
                    index = todo.get_nowait()
                except queue.Empty:
                    return
                done.put((index, self.checked(index, endpoints[index], total_deadline)))

        # Daemon threads: a name lookup that never returns cannot keep the module alive past total_timeout.
        for dummy in range(min(threads, len(indexes))):
            threading.Thread(target=worker, daemon=True).start()
        for dummy in indexes:
            try:
                yield done.get(timeout=max(total_deadline - time.monotonic(), 0) + 1.0)
            except queue.Empty:
                return

    def worker_process(self, indexes, threads, total_deadline, fd):
        """In a forked child: check ``indexes`` and write each result to ``fd``, then exit (never returns)."""
        code = 0
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            with os.fdopen(fd, "wb", buffering=0) as pipe:
                for index, result in self.in_threads(indexes, threads, total_deadline):
                    if result is not None:
                        pipe.write(json.dumps([index, result]).encode("utf-8") + b"\n")
        except BaseException:  # pylint: disable=broad-exception-caught
            code = 1
        finally:
            # os._exit: no atexit handler of the parent (AnsibleModule's temporary directory) runs here.
            os._exit(code)  # pylint: disable=protected-access

    def in_processes(self, threads_per_process, total_deadline):
        """(index, result) from forked worker processes, each with its share of the endpoints.

        A worker that dies, or that is still busy a second after total_deadline (it is then
        killed), leaves its remaining endpoints out; check_endpoints marks them.
        """
        shares = deal(len(self.settings["endpoints"]), len(threads_per_process))
        children = {}
        selector = selectors.DefaultSelector()
        try:
            for share, threads in zip(shares, threads_per_process):
                read_fd, write_fd = os.pipe()
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child never returns
                    os.close(read_fd)
                    self.worker_process(share, threads, total_deadline, write_fd)
                os.close(write_fd)
                children[read_fd] = pid
                selector.register(read_fd, selectors.EVENT_READ, [b""])
            while selector.get_map():
                events = selector.select(timeout=max(total_deadline - time.monotonic(), 0) + 1.0)
                if not events:
                    break
                for key, dummy in events:
                    chunk = os.read(key.fd, 1 << 20)
                    if not chunk:
                        selector.unregister(key.fd)
                        continue
                    lines = (key.data[0] + chunk).split(b"\n")
                    key.data[0] = lines.pop()
                    if len(key.data[0]) > _LINE_LIMIT:
                        selector.unregister(key.fd)
                        continue
                    for line in lines:
                        index, result = json.loads(line)
                        yield index, result
        finally:
            selector.close()
            for read_fd, pid in children.items():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
                os.waitpid(pid, 0)
                os.close(read_fd)

    def check_endpoints(self):
        endpoints = self.settings["endpoints"]
        total_deadline = time.monotonic() + self.settings["total_timeout"]
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        processes = self.p["processes"] if hasattr(os, "fork") else 1
        self.workers = plan_workers(len(endpoints), self.p["concurrency"], processes, cpus)
        if len(self.workers) > 1:
            found = self.in_processes(self.workers, total_deadline)
            lost = "not checked: its worker process stopped before it was done"
        else:
            found = self.in_threads(list(range(len(endpoints))), self.workers[0], total_deadline)
            lost = None
        results = [None] * len(endpoints)
        for index, result in found:
            results[index] = result
        kind, message = "timeout", "not checked within total_timeout (%ss)" % self.settings["total_timeout"]
        if lost is not None and time.monotonic() < total_deadline:
            kind, message = "handshake", lost
        return [
            result or unchecked_endpoint(endpoint, kind, message, self.p["unreachable_severity"])
            for endpoint, result in zip(endpoints, results)
        ]

    def check_file(self, pattern, path):
        if path is None:
            return error_result("file", "no file matches %s" % pattern, "critical")
        try:
            data = read_regular_file(path)
        except FileError as exc:
            return error_result("file", str(exc), "critical")
        verify = self.p["verify_files"]
        return judge_file(
            path,
            parse_certificate_data(data),
            self.settings["judge"],
            self.now,
            hostname=None,
            verify=verify,
            check_order=verify,
            **self.chain_options(),
        )

    def run(self):
        started = time.monotonic()
        results = self.check_endpoints()
        results += [
            file_result(pattern, path, self.check_file(pattern, path))
            for pattern, path in expand_files(self.p["files"])
        ]
        checked = time.monotonic()
        output = build_output(results, _ms(checked - started), self.p["fail_on"], self.settings["judge"])
        if self.p["result_details"] == "problems":
            output["results"] = trim_details(output["results"])
        output["timings"] = {
            "checks_ms": _ms(checked - started),
            "output_ms": _ms(time.monotonic() - checked),
            "processes": len(self.workers),
            "threads": self.workers,
        }
        return output


def _ms(seconds):
    return round(seconds * 1000.0, 1)


def process_age():
    """Seconds since this process started (/proc), or None where that cannot be read."""
    try:
        with open("/proc/self/stat") as handle:
            started = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        return max(uptime - started / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        return None


def main():
    entered = time.monotonic()
    age = process_age()
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_CRYPTOGRAPHY:
        output = {"msg": missing_required_lib("cryptography"), "exception": str(CRYPTOGRAPHY_ERROR)}
    else:
        try:
            check = CertCheck(module)
            setup = time.monotonic() - entered
            output = check.run()
        except (FindingError, FileError) as exc:
            output = {"msg": str(exc)}
        else:
            output["timings"] = dict(
                startup_ms=None if age is None else _ms(max(age - (entered - _IMPORTS_STARTED), 0.0)),
                imports_ms=_ms(_IMPORTS_DONE - _IMPORTS_STARTED),
                setup_ms=_ms(setup),
                **output["timings"],
            )
    if "msg" in output:
        module.fail_json(**output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
