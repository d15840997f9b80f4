"""Transaction-scoped advisory locks per tenant: one lock class per kind of writer that must not overlap."""

from django.db import connection


def tenant_xact_lock(lock_class: int, tenant_id: int) -> None:
    """Wait for, then hold until the transaction ends, the tenant's lock of this class."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [lock_class, tenant_id])
