#!/bin/sh
# Container entrypoint: `web` migrates then serves with gunicorn; `worker` runs the
# balance loop; anything else is executed as given (e.g. `python manage.py ...`).
set -eu
cd /app
case "${1:-web}" in
    web)
        echo "entrypoint: applying migrations"
        python manage.py migrate --noinput
        echo "entrypoint: starting gunicorn on ${APP_BIND:-127.0.0.1:18000}"
        exec gunicorn financial_stronghold.wsgi:application \
            --bind "${APP_BIND:-127.0.0.1:18000}" \
            --workers "${GUNICORN_WORKERS:-2}" --timeout 60 \
            --access-logfile - --error-logfile -
        ;;
    worker)
        exec python manage.py recompute_balances --loop --interval "${WORKER_INTERVAL:-30}"
        ;;
    *)
        exec "$@"
        ;;
esac
