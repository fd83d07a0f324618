from django.conf import settings
from django.core.management.base import BaseCommand

from core.health import run_checks


class Command(BaseCommand):
    help = "Check database connectivity, applied migrations and the cache; exit 1 when a check fails."

    def add_arguments(self, parser):
        parser.add_argument("--detailed", action="store_true", help="print one line per check")

    def handle(self, *args, detailed=False, **options):
        results = run_checks()
        healthy = all(r["ok"] for r in results.values())
        if detailed:
            for name, r in results.items():
                mark = "OK  " if r["ok"] else "FAIL"
                line = f"[{mark}] {name:<11} {r['detail']} ({r['ms']} ms)"
                self.stdout.write(self.style.SUCCESS(line) if r["ok"] else self.style.ERROR(line))
        overall = "HEALTHY" if healthy else "UNHEALTHY"
        msg = f"Overall: {overall} (version {settings.APP_VERSION})"
        if healthy:
            self.stdout.write(self.style.SUCCESS(msg))
            return
        self.stderr.write(self.style.ERROR(msg))
        raise SystemExit(1)
