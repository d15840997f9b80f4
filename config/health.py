"""GET /healthz: the database, Redis and the workers' heartbeats, 200 when all are up, else 503."""

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import HEARTBEAT_KEY


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
            row = cursor.fetchone()
        return {"ok": True, "pgvector": row[0] if row else None}
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        return {"ok": False, "error": type(exc).__name__}


def _redis_and_workers() -> tuple[dict, dict]:
    try:
        client = cache._cache.get_client()  # the same Redis the cache and broker use
        client.ping()
        # SCAN, not KEYS: KEYS blocks Redis for the whole keyspace, and load balancers poll this every few seconds.
        keys = list(client.scan_iter(match=f"*{HEARTBEAT_KEY}*", count=1000))
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}, {"ok": False, "alive": 0}
    names = sorted(k.decode().split(HEARTBEAT_KEY, 1)[1] for k in keys)
    return {"ok": True}, {"ok": bool(names), "alive": len(names), "names": names}


@never_cache
@require_GET
def healthz(request):
    database = _database()
    redis, workers = _redis_and_workers()
    ok = database["ok"] and redis["ok"] and workers["ok"]
    body = {"status": "ok" if ok else "degraded", "database": database, "redis": redis, "workers": workers}
    return JsonResponse(body, status=200 if ok else 503)
