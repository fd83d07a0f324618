import logging
import signal
import time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection, transaction

logger = logging.getLogger("core")

HEARTBEAT = Path("/tmp/worker-heartbeat")

SQL = """
UPDATE core_account AS a
   SET balance = s.total, updated_at = now()
  FROM (SELECT acc.id AS account_id,
               COALESCE(SUM(CASE WHEN t.kind = 'credit' THEN t.amount ELSE -t.amount END), 0) AS total
          FROM core_account acc
          LEFT JOIN core_transaction t ON t.account_id = acc.id AND t.status <> 'failed'
         GROUP BY acc.id) AS s
 WHERE a.id = s.account_id AND a.balance IS DISTINCT FROM s.total
"""


class Command(BaseCommand):
    help = "Recompute account balances from posted transactions (once, or in a loop with --loop)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--interval", type=int, default=30)

    def handle(self, *args, loop=False, interval=30, **options):
        stop = {"now": False}

        def _stop(signum, frame):
            stop["now"] = True

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        logger.info("balance worker starting (loop=%s, interval=%ss)", loop, interval)
        while True:
            HEARTBEAT.touch()
            start = time.monotonic()
            try:
                close_old_connections()
                with transaction.atomic():
                    with connection.cursor() as cur:
                        cur.execute(SQL)
                        changed = cur.rowcount
                logger.info(
                    "recomputed balances: %d account(s) changed in %.0f ms", changed, (time.monotonic() - start) * 1000
                )
                HEARTBEAT.touch()
            except Exception:  # noqa: BLE001 - keep the worker alive, but log the error
                logger.exception("balance recomputation failed")
            if not loop:
                return
            deadline = time.monotonic() + interval
            while not stop["now"] and time.monotonic() < deadline:
                time.sleep(1)
            if stop["now"]:
                logger.info("balance worker stopping")
                return
