"""The PII vault: reversible tokens such as `⟦PII:EMAIL:7f3a9c0b12de⟧`, the values Fernet-encrypted at rest.

A token is stable per tenant and value: it is derived from an HMAC of (tenant, kind, normalized value) keyed
from PII_VAULT_KEY, so the same e-mail address in two prompts is one token, and nobody without the key can
test a guess against a token. PII_VAULT_KEY holds one or more Fernet keys, comma-separated: the first
encrypts, all decrypt (rotation: put the new key first; token digests stay derived from the last one, so
tokens stay stable across a rotation). Detokenizing is a separate permission and every attempt is audited.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass

from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied

from core.cipher import fernet_keys, fernet_keys_problem, multi_fernet
from core.pii import PiiSpan, normalize, pii_find
from governance.audit import audit_record
from governance.models import PiiToken

DETOKENIZE_PERMISSION = "governance.detokenize_piitoken"
# Used only when DEBUG is on and PII_VAULT_KEY is unset: public, so nothing it encrypts is protected.
DEVELOPMENT_KEY = "7MWaiGbpCGTzT_yMscs0G7oV0Br8yY095YO_mcPN7bM="
DIGEST_CHARS = 12  # 48 bits: a collision needs ~16 million values in one tenant; tokens are unique anyway
TOKEN_RE = re.compile(rf"⟦PII:([A-Z]{{2,10}}):([0-9a-f]{{{DIGEST_CHARS}}})⟧")


@dataclass(frozen=True)
class VaultKeys:
    fernet: MultiFernet
    digest_key: bytes


def vault_key_problem(value: str | None = None, *, debug: bool | None = None) -> str | None:
    """Return what is wrong with PII_VAULT_KEY (missing outside debug, not a Fernet key), or None."""
    value = settings.PII_VAULT_KEY if value is None else value
    debug = settings.DEBUG if debug is None else debug
    if not fernet_keys(value):
        return None if debug else "PII_VAULT_KEY is required when DJANGO_DEBUG is off (a Fernet key)."
    return fernet_keys_problem("PII_VAULT_KEY", value)


def vault_keys() -> VaultKeys:
    """Return the configured keys; raise ImproperlyConfigured when they are missing or malformed."""
    problem = vault_key_problem()
    if problem:
        raise ImproperlyConfigured(problem)
    keys = fernet_keys(settings.PII_VAULT_KEY) or [DEVELOPMENT_KEY]
    digest_key = hmac.new(keys[-1].encode(), b"pii-token-digest", hashlib.sha256).digest()
    return VaultKeys(multi_fernet(keys), digest_key)


def _digest(keys: VaultKeys, tenant_id: int, kind: str, value: str) -> str:
    message = f"{tenant_id}\x00{kind}\x00{normalize(kind, value)}".encode()
    return hmac.new(keys.digest_key, message, hashlib.sha256).hexdigest()


def token_for(kind: str, digest: str) -> str:
    return f"⟦PII:{kind}:{digest[:DIGEST_CHARS]}⟧"


def pii_tokenize(*, tenant, text: str, spans: list[PiiSpan] | None = None) -> tuple[str, dict[str, str]]:
    """Replace each PII value in `text` by its tenant's token; return (text, {token: value as written}).

    The vault keeps one encrypted row per tenant and value; existing rows are reused (one query to read,
    one bulk insert for new values).
    """
    spans = pii_find(text) if spans is None else spans
    if not spans:
        return text, {}
    tenant_id = getattr(tenant, "pk", tenant)
    keys = vault_keys()
    digests = {span: _digest(keys, tenant_id, span.kind, span.value) for span in spans}
    known = dict(
        PiiToken.objects.filter(tenant_id=tenant_id, value_digest__in=set(digests.values())).values_list(
            "value_digest", "token"
        )
    )
    new = {}
    for span, digest in digests.items():
        if digest not in known and digest not in new:
            new[digest] = PiiToken(
                tenant_id=tenant_id,
                token=token_for(span.kind, digest),
                kind=span.kind,
                value_digest=digest,
                ciphertext=keys.fernet.encrypt(span.value.encode()),
            )
    if new:
        PiiToken.objects.bulk_create(new.values(), ignore_conflicts=True)  # a concurrent writer may win
        known.update({d: token_for(new[d].kind, d) for d in new})
    pieces, mapping, cursor = [], {}, 0
    for span in sorted(spans, key=lambda s: s.start):
        token = known[digests[span]]
        pieces += [text[cursor : span.start], token]
        mapping[token] = span.value
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces), mapping


def tokens_in(text: str) -> list[str]:
    return [m.group() for m in TOKEN_RE.finditer(text or "")]


def detokenize_with(text: str, mapping: dict[str, str]) -> str:
    """Put back the values of `mapping` (one request's own tokens); any other token stays a token."""
    if not mapping or not text:
        return text
    return TOKEN_RE.sub(lambda m: mapping.get(m.group(), m.group()), text)


def pii_detokenize(*, user, tenant, text: str) -> str:
    """Return `text` with the tenant's tokens replaced by their values; audited; needs the permission.

    Raises PermissionDenied (and audits the refusal) for a user without `governance.detokenize_piitoken`.
    Tokens of another tenant, or unknown ones, stay as they are.
    """
    found = sorted(set(tokens_in(text)))
    if not (user is not None and user.is_authenticated and user.has_perm(DETOKENIZE_PERMISSION)):
        audit_record(action="pii.detokenize_refused", actor=user, tenant=tenant, detail={"tokens": len(found)})
        raise PermissionDenied("Revealing PII tokens needs the permission “Can reveal the values behind PII tokens”.")
    rows = PiiToken.objects.filter(tenant=tenant, token__in=found).values_list("token", "ciphertext")
    keys = vault_keys()
    mapping = {}
    for token, ciphertext in rows:
        try:
            mapping[token] = keys.fernet.decrypt(bytes(ciphertext)).decode()
        except InvalidToken:
            continue  # encrypted with a key no longer configured: stays a token
    audit_record(
        action="pii.detokenize",
        actor=user,
        tenant=tenant,
        detail={"tokens": len(found), "revealed": len(mapping)},
    )
    return detokenize_with(text, mapping)
