"""Health checks shared by the /api/v1/health/ endpoint and `manage.py health_check`."""

import time
import uuid

from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def _timed(fn):
    start = time.monotonic()
    try:
        ok, detail = fn()
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return {"ok": ok, "detail": detail, "ms": round((time.monotonic() - start) * 1000, 1)}


def check_database():
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('server_version'), current_database()")
        version, db = cur.fetchone()
    return True, f"PostgreSQL {version}, database {db}"


def check_migrations():
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return False, f"{len(plan)} unapplied migration(s): " + ", ".join(
            f"{m.app_label}.{m.name}" for m, dummy in plan[:5]
        )
    return True, f"all {len(executor.loader.applied_migrations)} migrations applied"


def check_cache():
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "ok", 30)
    value = cache.get(key)
    cache.delete(key)
    if value != "ok":
        return False, "cache set/get round trip returned the wrong value"
    return True, "cache set/get round trip ok"


CHECKS = {"database": check_database, "migrations": check_migrations, "cache": check_cache}


def run_checks():
    results = {}
    for name, fn in CHECKS.items():
        if name == "migrations" and not results.get("database", {}).get("ok", True):
            results[name] = {"ok": False, "detail": "skipped: database unavailable", "ms": 0.0}
            continue
        results[name] = _timed(fn)
    return results
