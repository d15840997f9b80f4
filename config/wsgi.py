import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A web process encodes one short query per request on each of its threads: one torch thread per
# encode keeps concurrent requests from fighting over the cores (a query then takes ~10 ms, not ~300 ms
# under load). Workers embed batches and keep torch's default.
os.environ.setdefault("EMBEDDING_THREADS", "1")
application = get_wsgi_application()
