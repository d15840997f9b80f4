"""The Celery app; the worker checks the database at start and keeps a heartbeat in Redis."""

import os
import socket
import sys
import threading

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_KEY = "worker:heartbeat:"
HEARTBEAT_EVERY_S = 5
HEARTBEAT_TTL_S = 20  # /healthz reports a worker as alive while its key lives
_stop = threading.Event()


def _beat_forever(name: str) -> None:
    from django.core.cache import cache

    while not _stop.is_set():
        try:
            cache.set(HEARTBEAT_KEY + name, 1, HEARTBEAT_TTL_S)
        except Exception:  # noqa: BLE001 - Redis down: /healthz will say so
            pass
        _stop.wait(HEARTBEAT_EVERY_S)


@worker_ready.connect
def _start_heartbeat(sender=None, **kwargs):
    from config.startup import database_problem

    problem = database_problem()
    if problem:
        os.write(sys.__stderr__.fileno(), f"Start-up stopped: {problem}\n".encode())
        os._exit(1)  # a SystemExit raised inside a signal handler would be swallowed
    from knowledge.warmup import warm_up

    warm_up()  # the heartbeat below then means "ready to index within milliseconds"
    name = getattr(sender, "hostname", None) or socket.gethostname()
    threading.Thread(target=_beat_forever, args=(name,), daemon=True, name="heartbeat").start()


@worker_shutdown.connect
def _stop_heartbeat(**kwargs):
    _stop.set()
