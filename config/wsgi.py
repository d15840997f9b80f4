import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A web process encodes one short query per request on each of its threads: one torch thread per
# encode keeps concurrent requests from fighting over the cores. Workers embed batches and keep torch's
# default.
os.environ.setdefault("EMBEDDING_THREADS", "1")
application = get_wsgi_application()


def warm_up() -> None:
    """Load the query encoder, the re-ranker and any local LM before the first request, not during it
    (a first request would otherwise load them while holding the loader's lock, stalling its neighbours)."""
    from django.db import DatabaseError

    from assistant.providers import router
    from knowledge import warmup

    try:  # a wrong model path stops the process here, with its message; a database still starting does not
        warmup.warm_up(serving=True)
    except DatabaseError as exc:
        logging.getLogger(__name__).warning("embedding warm-up skipped, the database is not ready: %s", exc)
    router.warm_up()


warm_up()
