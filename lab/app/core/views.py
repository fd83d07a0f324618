import json
import logging
import socket

from django.conf import settings
from django.contrib.auth import authenticate, login
from django.db.models import Count, Sum
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .health import run_checks
from .models import Account, Transaction

logger = logging.getLogger("core")
security_logger = logging.getLogger("security")


def client_ip(request):
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "unknown")


@require_GET
def health(request):
    results = run_checks()
    healthy = all(r["ok"] for r in results.values())
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "version": settings.APP_VERSION,
        "database": "ok" if results["database"]["ok"] else "error",
        "cache": "ok" if results["cache"]["ok"] else "error",
        "migrations": "ok" if results["migrations"]["ok"] else "error",
        "checks": results,
        "hostname": socket.gethostname(),
        "timestamp": timezone.now().isoformat(),
    }
    if not healthy:
        logger.error("health check failed: %s", {k: v["detail"] for k, v in results.items() if not v["ok"]})
    return JsonResponse(body, status=200 if healthy else 503)


def _credentials(request):
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            data = {}
    else:
        data = request.POST
    return str(data.get("username", "")), str(data.get("password", ""))


@csrf_exempt
@require_POST
def login_view(request):
    username, password = _credentials(request)
    ip = client_ip(request)
    user = authenticate(request, username=username, password=password)
    if user is None:
        security_logger.warning(
            'security_event=failed_login username="%s" client_ip=%s reason=invalid_credentials', username, ip
        )
        return JsonResponse({"detail": "invalid credentials"}, status=401)
    login(request, user)
    security_logger.info('security_event=login_success username="%s" client_ip=%s', username, ip)
    return JsonResponse({"detail": "ok", "username": user.get_username()})


@require_GET
def accounts(request):
    summary = Account.objects.aggregate(count=Count("id"), total_balance=Sum("balance"))
    top = Account.objects.order_by("-balance").values("id", "number", "currency", "balance")[:10]
    return JsonResponse(
        {
            "count": summary["count"],
            "total_balance": str(summary["total_balance"] or 0),
            "top": [dict(a, balance=str(a["balance"])) for a in top],
        }
    )


@require_GET
def account_transactions(request, pk):
    account = get_object_or_404(Account, pk=pk)
    # Known bug kept on purpose: ?limit= is not validated, so a non-number is a 500.
    limit = int(request.GET.get("limit", "20"))
    rows = Transaction.objects.filter(account=account).values("id", "kind", "amount", "status", "created_at")[:limit]
    return JsonResponse(
        {
            "account": account.number,
            "transactions": [dict(r, amount=str(r["amount"]), created_at=r["created_at"].isoformat()) for r in rows],
        }
    )
