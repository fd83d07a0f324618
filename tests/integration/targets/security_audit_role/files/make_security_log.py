# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes a security.log as the lab app writes it into PATH, with times relative to now.

40 days ago (outside a 30-day audit window): 20 failed logins. 5 days ago: 12 failed logins of
user admin from 10.0.0.7 within 9 minutes, then 3 logins of ops from 10.0.0.9.
"""

import datetime
import sys

now = datetime.datetime.now(datetime.timezone.utc)


def line(at, level, event, user, ip):
    stamp = at.strftime("%Y-%m-%d %H:%M:%S,") + "%03d" % (at.microsecond // 1000)
    return '%s %s security [pid 7] security_event=%s username="%s" client_ip=%s\n' % (stamp, level, event, user, ip)


with open(sys.argv[1], "w", encoding="utf-8") as f:
    old = now - datetime.timedelta(days=40)
    for i in range(20):
        f.write(line(old + datetime.timedelta(seconds=i), "WARNING", "failed_login", "root", "10.0.0.5"))
    recent = now - datetime.timedelta(days=5)
    for i in range(12):
        f.write(line(recent + datetime.timedelta(seconds=45 * i), "WARNING", "failed_login", "admin", "10.0.0.7"))
    for i in range(3):
        f.write(line(recent + datetime.timedelta(minutes=20 + i), "INFO", "login_success", "ops", "10.0.0.9"))
