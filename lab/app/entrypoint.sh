#!/bin/sh
# Container entrypoint: `web` migrates then serves with gunicorn; `worker` runs the
# balance loop; `healthcheck` asks this container's own gunicorn; anything else is executed
# as given (e.g. `python manage.py ...`).
#
# gunicorn listens on APP_BIND (host networking: the host's 127.0.0.1:18000) with SO_REUSEPORT,
# so a new release can start beside the running one (compose_rollback strategy start_first).
# It also listens on an address of its own, 127.A.B.C on the same port with A.B.C drawn at
# start (all of 127.0.0.0/8 is loopback), written to /tmp/health-addr: the healthcheck asks
# that address, so it never gets its answer from the other release. (A Unix socket cannot be
# used: gunicorn sets SO_REUSEPORT on every listener and Unix sockets refuse it.)
# --preload loads the application before gunicorn binds: from the moment the new listener gets
# its share of the connections, workers are ready to answer them (no wait behind Django start-up).
set -eu
cd /app
HEALTH_ADDR_FILE=/tmp/health-addr
byte() { od -An -N1 -tu1 /dev/urandom | tr -d ' '; }
# Access log: the combined format plus the request time in microseconds as the last field
# (%(D)s), written both to stdout (docker logs) and to /app/logs/access.log (the host's
# $ROOT/app/logs/access.log). gunicorn's --access-logfile takes one destination, so the
# gunicorn.access logger gets two handlers through a dictConfig; WatchedFileHandler reopens
# the file after logrotate moves it (as Django's own log handlers do). gunicorn.error keeps
# its --error-logfile handler (disable_existing_loggers false, not named here).
# Example line:
#   127.0.0.1 - - [05/Dec/2026:15:22:51 +0000] "GET /api/v1/health/ HTTP/1.1" 200 98 "-" "curl/7.88.1" 5123
ACCESS_LOG_FORMAT='%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)s'
ACCESS_LOG_CONFIG_FILE=/tmp/gunicorn-logging.json
ACCESS_LOG_CONFIG='{"version": 1, "disable_existing_loggers": false,
 "formatters": {"access": {"format": "%(message)s"}},
 "handlers": {
  "access_stdout": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
  "access_file": {"class": "logging.handlers.WatchedFileHandler", "formatter": "access",
                  "filename": "/app/logs/access.log"}},
 "root": {"level": "INFO", "handlers": []},
 "loggers": {"gunicorn.access": {"level": "INFO", "handlers": ["access_stdout", "access_file"], "propagate": false}}}'
case "${1:-web}" in
    web)
        echo "entrypoint: applying migrations"
        python manage.py migrate --noinput
        bind="${APP_BIND:-127.0.0.1:18000}"
        own="127.$(( $(byte) % 254 + 1 )).$(byte).$(( $(byte) % 254 + 1 )):${bind##*:}"
        echo "$own" >"$HEALTH_ADDR_FILE"
        printf '%s\n' "$ACCESS_LOG_CONFIG" >"$ACCESS_LOG_CONFIG_FILE"
        echo "entrypoint: starting gunicorn on $bind (reuse-port) and on $own (this container's own)"
        exec gunicorn financial_stronghold.wsgi:application \
            --bind "$bind" --bind "$own" --reuse-port --preload \
            --workers "${GUNICORN_WORKERS:-2}" --timeout 60 \
            --error-logfile - \
            --log-config-json "$ACCESS_LOG_CONFIG_FILE" --access-logformat "$ACCESS_LOG_FORMAT"
        ;;
    healthcheck)
        exec python - "$(cat "$HEALTH_ADDR_FILE")" "${2:-/api/v1/health/}" <<'PY'
import http.client
import sys

host, port = sys.argv[1].rsplit(":", 1)
connection = http.client.HTTPConnection(host, int(port), timeout=4)
# Django's ALLOWED_HOSTS knows 127.0.0.1, not the container's own address.
connection.request("GET", sys.argv[2], headers={"Host": "127.0.0.1"})
sys.exit(0 if connection.getresponse().status == 200 else 1)
PY
        ;;
    worker)
        exec python manage.py recompute_balances --loop --interval "${WORKER_INTERVAL:-30}"
        ;;
    *)
        exec "$@"
        ;;
esac
