"""The PII vault: tokens, encryption at rest, audited detokenizing, and redaction before an outside provider."""

import io
import json
import re
import uuid

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.management import CommandError, call_command

from assistant.providers import router
from assistant.providers.redaction import StreamRestorer
from governance.checks import pii_vault_key_check
from governance.models import AnswerRecord, AuditEvent, PiiToken
from governance.vault import TOKEN_RE, pii_detokenize, pii_tokenize, vault_keys
from tests import factories
from tests.assistant.fake_openai import Reply, drill_request
from tests.governance.pii_corpus import planted_corpus
from tests.governance.retention_data import answer

pytestmark = pytest.mark.django_db

QUESTION = (
    "My name is Anna Schmidt, mail anna.schmidt@example.com or call +49 171 2345678: "
    "how long do I have to return the Sonora ANC headphones?"
)
PLANTED = ("Anna Schmidt", "anna.schmidt@example.com", "+49 171 2345678")


@pytest.fixture
def tenant():
    return factories.TenantFactory(slug=f"vault-{uuid.uuid4().hex[:6]}")


def _reviewer(*, can_detokenize: bool) -> User:
    user = User.objects.create_user(f"reviewer-{uuid.uuid4().hex[:6]}", password="x", is_staff=True)
    if can_detokenize:
        user.user_permissions.add(Permission.objects.get(codename="detokenize_piitoken"))
        user = User.objects.get(pk=user.pk)  # drop the permission cache
    return user


# Tokens -------------------------------------------------------------------------------------------------------


def test_pii_tokenize__replaces_each_value_by_a_stable_token_per_tenant(tenant):
    other = factories.TenantFactory(slug=f"other-{uuid.uuid4().hex[:6]}")

    text, tokens = pii_tokenize(tenant=tenant, text="Write to a.b@example.com, again A.B@example.com.")
    again, _ = pii_tokenize(tenant=tenant, text="a.b@example.com")
    elsewhere, _ = pii_tokenize(tenant=other, text="a.b@example.com")

    assert "example.com" not in text
    found = TOKEN_RE.findall(text)
    assert len(found) == 2 and found[0] == found[1] and found[0][0] == "EMAIL"  # one token per normalized value
    assert again.strip() == TOKEN_RE.search(text).group()
    assert elsewhere != again  # tenants never share tokens
    assert len(tokens) == 1 and set(tokens.values()) <= {"a.b@example.com", "A.B@example.com"}
    assert PiiToken.objects.filter(tenant=tenant).count() == 1


def test_pii_tokenize__values_are_encrypted_at_rest(tenant):
    pii_tokenize(tenant=tenant, text="IBAN DE89 3704 0044 0532 0130 00")

    row = PiiToken.objects.get(tenant=tenant)
    assert b"DE89" not in bytes(row.ciphertext) and b"3704" not in bytes(row.ciphertext)
    assert vault_keys().fernet.decrypt(bytes(row.ciphertext)).decode() == "DE89 3704 0044 0532 0130 00"
    assert row.kind == "IBAN" and str(row) == row.token


# Detokenizing: a separate, audited permission -----------------------------------------------------------------


def test_pii_detokenize__without_the_permission_is_refused_and_audited(tenant):
    text, _ = pii_tokenize(tenant=tenant, text="call +49 30 1234567")
    user = _reviewer(can_detokenize=False)

    with pytest.raises(PermissionDenied):
        pii_detokenize(user=user, tenant=tenant, text=text)

    event = AuditEvent.objects.get(action="pii.detokenize_refused", actor=user)
    assert event.tenant == tenant and event.detail == {"tokens": 1}
    assert not AuditEvent.objects.filter(action="pii.detokenize").exists()
    assert "1234567" not in json.dumps(event.detail)


def test_pii_detokenize__with_the_permission_reveals_the_tenants_values_and_is_audited(tenant):
    other = factories.TenantFactory(slug=f"other-{uuid.uuid4().hex[:6]}")
    mine, _ = pii_tokenize(tenant=tenant, text="mail jo@example.com")
    theirs, _ = pii_tokenize(tenant=other, text="mail max@example.org")
    user = _reviewer(can_detokenize=True)

    revealed = pii_detokenize(user=user, tenant=tenant, text=f"{mine} / {theirs}")

    assert revealed.startswith("mail jo@example.com / mail ")
    assert "max@example.org" not in revealed and TOKEN_RE.search(revealed)  # another tenant's token stays
    event = AuditEvent.objects.get(action="pii.detokenize", actor=user)
    assert event.tenant == tenant and event.detail == {"tokens": 2, "revealed": 1}


def test_reveal_pii_command__reveals_a_records_values_to_a_permitted_user_and_refuses_others(tenant):
    question, _ = pii_tokenize(tenant=tenant, text="mail jo@example.com please")
    record = answer(tenant, question=question, answer="Within 30 days [1].")
    allowed, refused = _reviewer(can_detokenize=True), _reviewer(can_detokenize=False)
    out = io.StringIO()

    call_command("reveal_pii", str(record.pk), user=allowed.username, stdout=out)
    with pytest.raises(CommandError, match="reveal the values"):
        call_command("reveal_pii", str(record.pk), user=refused.username, stdout=io.StringIO())

    assert "Question: mail jo@example.com please" in out.getvalue()
    assert AuditEvent.objects.filter(action="pii.detokenize", actor=allowed, tenant=tenant).count() == 1
    assert AuditEvent.objects.filter(action="pii.detokenize_refused", actor=refused, tenant=tenant).count() == 1
    assert TOKEN_RE.search(AnswerRecord.objects.get(pk=record.pk).question)  # the record keeps its token


# The key ---------------------------------------------------------------------------------------------------------


def test_vault_key__required_outside_debug_and_must_be_a_fernet_key(settings):
    settings.DEBUG, settings.PII_VAULT_KEY = False, ""
    missing = pii_vault_key_check(None)
    settings.PII_VAULT_KEY = "not-a-key"
    malformed = pii_vault_key_check(None)
    with pytest.raises(ImproperlyConfigured):
        vault_keys()
    settings.DEBUG, settings.PII_VAULT_KEY = True, ""
    debug = pii_vault_key_check(None)

    assert [e.id for e in missing] == ["governance.E001"] and "required" in missing[0].msg
    assert [e.id for e in malformed] == ["governance.E001"] and "not a Fernet key" in malformed[0].msg
    assert debug == [] and vault_keys().fernet is not None


# Before an outside provider ---------------------------------------------------------------------------------------


def test_router_complete__no_planted_value_of_the_corpus_reaches_the_outside_provider(tenant, llm):
    corpus = planted_corpus()
    decision = router.route(capability="chat", risk="low", confidence=0.9, tenant_id=tenant.pk)

    for text, _ in corpus:
        router.complete(decision, drill_request(question=text, prompt=f"Question: {text}"), tenant_id=tenant.pk)

    sent = [json.dumps(r.body["messages"], ensure_ascii=False) for r in llm.chat_requests]
    assert len(sent) == len(corpus) >= 200
    leaked = [value for (_, values), body in zip(corpus, sent, strict=True) for _, value in values if value in body]
    assert leaked == []
    assert all(TOKEN_RE.search(body) for body in sent)


def test_router_complete__the_draft_gets_this_requests_own_values_back(tenant, llm):
    def echo(body):  # the model repeats the token it was given, and one it invents
        token = TOKEN_RE.search(body["messages"][-1]["content"]).group()
        return Reply(text=f"We will write to {token}, not ⟦PII:EMAIL:000000000000⟧ [1].")

    llm.script(echo)
    decision = router.route(capability="chat", risk="low", confidence=0.9, tenant_id=tenant.pk)

    completion = router.complete(
        decision, drill_request(prompt="Question: mail me at jo@example.com"), tenant_id=tenant.pk
    )

    assert completion.text == "We will write to jo@example.com, not ⟦PII:EMAIL:000000000000⟧ [1]."
    assert "jo@example.com" not in json.dumps(llm.chat_requests[-1].body)


def test_router_complete__when_tokenizing_fails_nothing_is_sent(tenant, llm, settings):
    settings.PII_VAULT_KEY = "broken"
    decision = router.route(capability="chat", risk="low", confidence=0.9, tenant_id=tenant.pk)

    completion = router.complete(decision, drill_request(prompt="Question: jo@example.com?"), tenant_id=tenant.pk)

    assert llm.chat_requests == []
    assert completion.provider == "extractive" and "PII tokenization failed" in completion.extra["fallback_reason"]


def test_stream_restorer__a_token_split_over_deltas_is_restored_whole():
    token = "⟦PII:EMAIL:7f3a9c0b12de⟧"
    restorer = StreamRestorer({token: "jo@example.com"})

    pieces = [restorer.feed(d) for d in ("Write to ⟦PII:EM", "AIL:7f3a9c0b", "12de⟧ today", " [1].")]

    assert "".join(pieces) + restorer.flush() == "Write to jo@example.com today [1]."
    assert all("⟦" not in p for p in pieces)


@pytest.mark.parametrize("stream", [False, True])
def test_chat__retained_record_holds_tokens_only_and_no_value_reaches_the_provider(shop, llm, stream):
    headers = {"HTTP_ACCEPT": "text/event-stream"} if stream else {}

    response = shop.retail.post("/ai/v1/chat", {"question": QUESTION}, format="json", **headers)

    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode() if stream else response.content.decode()
    answer_id = re.search(r'"answer_id": ?"([0-9a-f-]{36})"', body).group(1)
    sent = json.dumps([r.body for r in llm.chat_requests], ensure_ascii=False)
    assert llm.chat_requests and not any(value in sent for value in PLANTED)
    record = AnswerRecord.objects.get(pk=answer_id)
    retained = json.dumps(
        [record.prompt, record.question, record.history, record.draft, record.answer, record.unconfirmed],
        ensure_ascii=False,
    )
    assert not any(value in retained for value in PLANTED)
    assert len(set(TOKEN_RE.findall(record.prompt))) == 3 and TOKEN_RE.search(record.question)
    assert not any(value in claim.text for claim in record.claims.all() for value in PLANTED)
