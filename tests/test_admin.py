"""The admin smoke test, and helpers that fill and submit admin forms the way a browser does.

`submit()` GETs the real add or change page, collects what a browser would send from its main form
(inputs, checked boxes, selected options, textareas, every inline's management form), applies the
test's edits and POSTs it: the tests exercise the admin's own forms, not hand-built payloads.
"""

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db.models import F
from django.test import RequestFactory
from django.urls import reverse

from assistant.models import PromptTemplate, PromptTemplateVersion
from assistant.services.templates import prompt_template_current
from catalog.contracts import FieldSpec, attribute_contract_publish
from catalog.models import SKU, AttributeContract, Category, CustomerGroup, PriceList, Product, Tenant, Warehouse
from governance.models import AnswerRecord, ApiKey, AuditEvent, LegalHold, PurgeRun, RatePlan, RetentionPolicy
from knowledge.ingestion.event_sources import event_source_create
from knowledge.models import (
    Chunk,
    Document,
    DocumentVersion,
    EmbeddingSpace,
    EventSource,
    IngestionRun,
    IngestionSettings,
    KeywordPack,
    Policy,
    PolicyVersion,
    RankingProfile,
    ReceivedEvent,
    RelevanceModel,
)
from knowledge.ranking import Ranking
from knowledge.services.keyword_packs import keyword_pack_build
from knowledge.services.ranking import ranking_profile_publish
from knowledge.services.spaces import embedding_space_create
from tests import factories

# Derived or immutable rows: the add page is refused.
READ_ONLY = {
    Chunk, PolicyVersion, DocumentVersion, PromptTemplateVersion, AnswerRecord, AuditEvent, PurgeRun, KeywordPack,
    IngestionRun,
    ReceivedEvent,
    RelevanceModel,
}  # fmt: skip


def admin_url(obj_or_model, view: str, *args) -> str:
    opts = obj_or_model._meta
    if view in ("change", "delete", "history") and not args:
        args = (obj_or_model.pk,)
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def login_editor(client) -> User:
    user = factories.staff_editor()
    client.force_login(user)
    return user


class _BrowserForm(HTMLParser):
    """Collect the name/value pairs a browser submits from the form with the given id."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.pairs = form_id, False, []
        self.select: dict | None = None
        self.textarea: tuple[str, list] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif self.inside and tag == "input":
            self._input(a)
        elif self.inside and tag == "select":
            self.select = {"name": a.get("name"), "multiple": "multiple" in a, "chosen": [], "first": None}
        elif self.inside and tag == "option" and self.select is not None:
            value = a.get("value", "")
            self.select["first"] = value if self.select["first"] is None else self.select["first"]
            if "selected" in a:
                self.select["chosen"].append(value)
        elif self.inside and tag == "textarea":
            self.textarea = (a.get("name"), [])

    def _input(self, a: dict) -> None:
        kind, name = a.get("type", "text"), a.get("name")
        if not name or kind in ("submit", "button", "file", "image", "reset"):
            return
        if kind in ("checkbox", "radio") and "checked" not in a:
            return
        self.pairs.append((name, a.get("value", "on" if kind in ("checkbox", "radio") else "")))

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self.textarea is not None:
            name, parts = self.textarea
            text = "".join(parts)
            self.pairs.append((name, text[1:] if text.startswith("\n") else text))  # browsers drop that newline
            self.textarea = None
        elif tag == "select" and self.select is not None:
            s, self.select = self.select, None
            chosen = s["chosen"] or ([] if s["multiple"] or s["first"] is None else [s["first"]])
            self.pairs += [(s["name"], value) for value in chosen]


def browser_form(client, url: str) -> dict:
    """Return what the browser would submit from the admin page at `url`, as {name: value or [values]}."""
    page = client.get(url)
    assert page.status_code == 200, f"GET {url}: {page.status_code}"
    parser = _BrowserForm(f"{page.context['opts'].model_name}_form")
    parser.feed(page.content.decode())
    data: dict = {}
    for name, value in parser.pairs:
        data.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in data.items()}


def submit(client, url: str, changes: dict | None = None, **kwargs):
    """Fill the admin form at `url` as a browser does, apply `changes`, and press Save."""
    data = browser_form(client, url)
    data.update(changes or {})
    data["_save"] = "Save"
    return client.post(url, data, **kwargs)


def add_inline_row(data: dict, prefix: str, values: dict) -> None:
    """Fill a new inline row as "Add another" does: copy the empty-form template's fields, then type."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    template = f"{prefix}-__prefix__-"
    for name, value in list(data.items()):
        if name.startswith(template):
            data[f"{prefix}-{index}-{name.removeprefix(template)}"] = value
    data.update({f"{prefix}-{index}-{name}": value for name, value in values.items()})
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)


def form_errors(response) -> list[str]:
    """Return every error of the re-rendered admin form and its inlines as "field: message"."""
    assert response.status_code == 200, f"expected the form again, got {response.status_code}"
    errors = [f"{f}: {m}" for f, ms in response.context["adminform"].form.errors.items() for m in ms]
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            errors += [f"{inline.formset.prefix}.{f}: {m}" for f, ms in form.errors.items() for m in ms]
        errors += [f"{inline.formset.prefix}: {m}" for m in inline.formset.non_form_errors()]
    assert errors, "the form was re-rendered without any error"
    return errors


def _samples(editor: User) -> dict:
    """One stored row of every model the admin registers."""
    tenant = factories.TenantFactory()
    product = factories.product(tenant=tenant)
    sku = factories.sku(product)
    policy = factories.policy(tenant=tenant)
    document = factories.document(tenant=tenant, product=product)
    space = EmbeddingSpace.objects.first() or embedding_space_create(name="all-MiniLM-L6-v2", dimensions=384)
    chunk = Chunk.objects.create(
        tenant=tenant, source_kind="sku", source_id=sku.pk, source_key=sku.code, source_version=1, anchor="spec",
        ordinal=0, locale="en", title=product.title, text=f"SKU {sku.code}", token_count=3, content_hash="0" * 64,
    )  # fmt: skip
    prompt = prompt_template_current("chat")
    answer = AnswerRecord.objects.create(
        tenant=tenant, capability="chat", locale="en", question="Hi?", verdict="abstained"
    )
    # Governance rows are shown per reviewed tenant (django-guardian); the editor reviews the sample's.
    from django.utils import timezone
    from guardian.shortcuts import assign_perm

    from governance.audit import audit_record
    from governance.holds import legal_hold_place
    from governance.retention import retention_policy_set

    assign_perm("catalog.review_records", editor, tenant)
    hold = legal_hold_place(tenant=tenant, matter="Smoke v. Test", reason="Sample", placed_by=editor, text_query="zz")
    retention = retention_policy_set(tenant=tenant, record_class="answers", retain_days=30, actor=editor)
    source = event_source_create(tenant=tenant, name="sample-pim").source
    run = IngestionRun.objects.create(tenant=tenant, origin="events", source="sample-pim 2025-01-01T00:00Z")
    received = ReceivedEvent.objects.create(
        source=source, event_id="evt-1", event_type="price.upsert", entity="price|retail|SKU-1", version=1,
        outcome="applied", action="new", run=run,
    )  # fmt: skip
    return {
        EventSource: source,
        ReceivedEvent: received,
        LegalHold: hold,
        RetentionPolicy: retention,
        AuditEvent: audit_record(action="sample.event", tenant=tenant),
        PurgeRun: PurgeRun.objects.create(tenant=tenant, record_class="answers", cutoff=timezone.now()),
        RatePlan: RatePlan.objects.create(tenant=tenant),
        PromptTemplate: prompt.template,
        PromptTemplateVersion: prompt,
        AnswerRecord: answer,
        Tenant: tenant,
        Category: product.category,
        CustomerGroup: factories.CustomerGroupFactory(tenant=tenant),
        PriceList: factories.PriceListFactory(tenant=tenant),
        Warehouse: factories.WarehouseFactory(tenant=tenant),
        Product: product,
        SKU: sku,
        Policy: policy,
        PolicyVersion: policy.current_version,
        Document: document,
        DocumentVersion: document.versions.get(),
        EmbeddingSpace: space,
        RankingProfile: ranking_profile_publish(tenant=tenant, values=Ranking.from_settings().__dict__),
        Chunk: chunk,
        KeywordPack: keyword_pack_build(tenant_id=tenant.pk, locale="en"),
        ApiKey: factories.api_key(tenant)[0],
        AttributeContract: attribute_contract_publish(
            category=product.category, fields=[FieldSpec("power_w", "number", unit="W")]
        ),
        IngestionRun: IngestionRun.objects.create(
            tenant=tenant,
            source="feed.jsonl",
            content_hash="0" * 64,
            state="held",
            held_reasons=[{"trigger": "rejected", "detail": "1 of 1 lines rejected (100%, over 10%)"}],
        ),  # fmt: skip
        IngestionSettings: IngestionSettings.objects.create(tenant=tenant),
        RelevanceModel: RelevanceModel.objects.create(
            name="pqa",
            version=1,
            path="var/models/relevance/pqa-v1",
            threshold=0.4,
            datasets=[{"name": "hetpqa", "path": "/data/hetpqa", "pairs": 10}],
            split={"hetpqa": {"unit": "asin", "train": ["a"], "calibrate": ["b"], "report": ["c"]}},
            metrics={"hetpqa.report.first_relevant": 0.8},
        ),  # fmt: skip
        User: editor,
        Group: Group.objects.create(name="editors"),
    }


@pytest.mark.django_db
def test_admin__every_registered_model_admin_renders_changelist_add_and_change(client):
    editor = login_editor(client)
    samples = _samples(editor)
    request = RequestFactory().get("/admin/")
    request.user = editor

    for model, model_admin in admin.site._registry.items():
        name = model._meta.label
        assert model in samples, f"{name} is registered in the admin: add a sample row to _samples()"
        changelist = admin_url(model, "changelist")
        for url in (changelist, changelist + "?q=zz", changelist + "?_facets=True"):
            assert client.get(url).status_code == 200, f"{name} changelist {url}"
        expected_add = 403 if model in READ_ONLY else 200
        assert model_admin.has_add_permission(request) is (model not in READ_ONLY), name
        assert client.get(admin_url(model, "add")).status_code == expected_add, f"{name} add page"
        assert client.get(admin_url(samples[model], "change")).status_code == 200, f"{name} change page"


@pytest.mark.django_db
def test_admin__index_status_filter_selects_fresh_pending_and_failed_rows(client):
    login_editor(client)
    tenant = factories.TenantFactory()
    fresh, pending, failed = (
        factories.product(tenant=tenant, title=t) for t in ("Fresh kettle", "Pending kettle", "Failed kettle")
    )
    Product.objects.filter(pk=fresh.pk).update(indexed_hash=F("content_hash"))  # as the worker leaves a row
    Product.objects.filter(pk=failed.pk).update(index_error="RuntimeError: encoder crashed")

    pages = {
        state: client.get(admin_url(Product, "changelist") + f"?index_status={state}")
        for state in ("fresh", "pending", "failed")
    }

    assert [p.title for p in pages["fresh"].context["cl"].result_list] == ["Fresh kettle"]
    assert [p.title for p in pages["pending"].context["cl"].result_list] == ["Pending kettle"]
    assert [p.title for p in pages["failed"].context["cl"].result_list] == ["Failed kettle"]
    assert "failed: RuntimeError: encoder crashed" in pages["failed"].content.decode()
    assert "pending (lag " in pages["pending"].content.decode()
    assert ">fresh<" in pages["fresh"].content.decode()
