"""What an API key may call: the scope names, shared so that every layer checks them with `Caller.scope_missing`.

Keys (governance) store these names; catalog and knowledge views require them without importing governance.
"""

from django.db import models


class Scope(models.TextChoices):
    CATALOG_READ = "catalog:read", "Read the catalog, policies, documents and search"
    CATALOG_WRITE = "catalog:write", "Create, update and delete catalog content"
    AI_CHAT = "ai:chat", "Ask the assistant (/ai/v1)"
    RECORDS_READ = "records:read", "Read the tenant's answer records"
    RECORDS_EXPORT = "records:export", "Export the tenant's answer records"
