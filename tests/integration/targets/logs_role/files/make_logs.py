# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes the lab app's three logs into DIR with times relative to now, as the app writes them.

django_errors.log: an ERROR record 2 days old (outside a 24 h window), then two ERROR records
within the last hour, the first with a traceback (one record, several lines), and a WARNING.
security.log: 12 failed logins of user admin from 10.0.0.7 within 10 minutes, 2 failed logins of
other users from 10.0.0.8, 1 login_success.
access.log (gunicorn, request time in microseconds last): 40 requests within the last hour, 4 of
them answered 500 (10 %), the slowest 3 taking 900 ms (p95 above 200 ms).
"""

import datetime
import sys

out = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)


def django(at):
    return at.strftime("%Y-%m-%d %H:%M:%S,") + "%03d" % (at.microsecond // 1000)


def gunicorn(at):
    return at.strftime("[%d/%b/%Y:%H:%M:%S +0000]")


with open(out + "/django_errors.log", "w", encoding="utf-8") as f:
    f.write("%s ERROR django.request [pid 7] Internal Server Error: /old/\n" % django(now - datetime.timedelta(days=2)))
    at = now - datetime.timedelta(minutes=50)
    f.write("%s ERROR django.request [pid 7] Internal Server Error: /api/v1/accounts/1/transactions/\n" % django(at))
    f.write('Traceback (most recent call last):\n  File "/app/core/views.py", line 80, in transactions\n')
    f.write("ValueError: invalid literal for int() with base 10: 'abc'\n")
    f.write("%s WARNING django.request [pid 7] Not Found: /favicon.ico\n" % django(at + datetime.timedelta(seconds=5)))
    f.write("%s ERROR core [pid 8] balance recomputation failed\n" % django(at + datetime.timedelta(minutes=1)))

with open(out + "/security.log", "w", encoding="utf-8") as f:
    start = now - datetime.timedelta(minutes=30)
    for i in range(12):
        at = start + datetime.timedelta(seconds=45 * i)
        f.write(
            '%s WARNING security [pid 7] security_event=failed_login username="admin" client_ip=10.0.0.7 '
            "reason=invalid_credentials\n" % django(at)
        )
    for i, user in enumerate(("jdoe", "root")):
        at = start + datetime.timedelta(minutes=12, seconds=i)
        f.write(
            '%s WARNING security [pid 7] security_event=failed_login username="%s" client_ip=10.0.0.8 '
            "reason=invalid_credentials\n" % (django(at), user)
        )
    at = start + datetime.timedelta(minutes=13)
    f.write('%s INFO security [pid 7] security_event=login_success username="ops" client_ip=10.0.0.9\n' % django(at))

with open(out + "/access.log", "w", encoding="utf-8") as f:
    start = now - datetime.timedelta(minutes=40)
    for i in range(40):
        at = start + datetime.timedelta(seconds=30 * i)
        status = 500 if i % 10 == 3 else 200
        micros = 900000 if i in (5, 15, 25) else 20000 + i
        f.write(
            '127.0.0.1 - - %s "GET /api/v1/accounts/ HTTP/1.1" %d 120 "-" "curl/7.88.1" %d\n'
            % (gunicorn(at), status, micros)
        )
