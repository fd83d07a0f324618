# Copyright: (c) 2026, Financial Stronghold operations team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a webhook receiver does: recompute the HMAC-SHA256 of the body it got (stdin) with the
shared secret (argv[1]) and compare it with the header value (argv[2]); print the parsed JSON's
version and alert count."""

import hashlib
import hmac
import json
import sys

body = sys.stdin.buffer.read()
expected = "sha256=" + hmac.new(sys.argv[1].encode(), body, hashlib.sha256).hexdigest()
if not hmac.compare_digest(expected, sys.argv[2]):
    sys.exit("signature mismatch: %s != %s" % (expected, sys.argv[2]))
payload = json.loads(body)
print("ok version=%s alerts=%d" % (payload["version"], len(payload["alerts"])))
