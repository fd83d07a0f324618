#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the run report's browser test (tests/browser/check_page.py),
# installed when missing. Chromium runs headless, loads pages from disk only, and its background
# networking is switched off by the test (the machine's network is loopback only).
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
echo "browser-deps: installing chromium and chromium-driver" >&2
log="$(mktemp)"
{
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver \
        || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver; }
} >"$log" 2>&1 || { tail -20 "$log" >&2; rm -f "$log"; echo "browser-deps: apt-get install failed" >&2; exit 1; }
rm -f "$log"
/usr/bin/chromium --version >&2
