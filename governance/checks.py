"""System checks: a production process must not start without a usable PII vault key."""

from django.core.checks import Error, register

from governance.vault import vault_key_problem


@register("governance")
def pii_vault_key_check(app_configs, **kwargs):
    """PII_VAULT_KEY must be set outside debug and hold Fernet keys only."""
    problem = vault_key_problem()
    if problem is None:
        return []
    return [Error(problem, hint="Set PII_VAULT_KEY in the environment.", id="governance.E001")]
