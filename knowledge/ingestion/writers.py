"""Write one decided record through the service functions: an upsert by natural key, or a delete."""

from decimal import Decimal
from pathlib import Path

from catalog import services as catalog
from catalog.models import SKU, Category, CustomerGroup, PriceList, Product, Warehouse
from knowledge.ingestion.context import Context
from knowledge.ingestion.records import file_bytes
from knowledge.models import Document, DocumentFormat, DocumentKind, Policy
from knowledge.services import documents, policies
from knowledge.services.product_media import product_media_set


def _given(payload: dict, *names: str) -> dict:
    return {name: payload[name] for name in names if name in payload}


def category_write(ctx: Context, payload: dict, deleting: bool) -> None:
    path = payload["path"]
    slug, parent_path = path.rsplit("/", 1)[-1], path.rpartition("/")[0]
    current = ctx.get(Category, slug=slug)
    if deleting:
        catalog.category_delete(current)
        ctx.forget(Category, slug=slug)
    elif current is None:
        catalog.category_create(tenant=ctx.tenant, name=payload["name"], slug=slug, parent=ctx.category(parent_path))
    else:
        catalog.category_update(current, parent=ctx.category(parent_path), **_given(payload, "name"))


def customer_group_write(ctx: Context, payload: dict, deleting: bool) -> None:
    current = ctx.get(CustomerGroup, code=payload["code"])
    if deleting:
        ctx.forget(CustomerGroup, code=payload["code"])
        return catalog.customer_group_delete(current)
    fields = _given(payload, "name")
    categories = None
    if "categories" in payload:
        categories = [ctx.category(path) for path in payload["categories"]]
        fields["all_categories"] = not categories
    if current is None:
        catalog.customer_group_create(tenant=ctx.tenant, code=payload["code"], categories=categories or (), **fields)
    else:
        catalog.customer_group_update(current, categories=categories, **fields)


def price_list_write(ctx: Context, payload: dict, deleting: bool) -> None:
    current = ctx.get(PriceList, code=payload["code"])
    if deleting:
        ctx.forget(PriceList, code=payload["code"])
        return catalog.price_list_delete(current)
    fields = _given(payload, "name", "currency")
    if "customer_group" in payload:
        group = payload["customer_group"]
        fields["customer_group"] = ctx.get(CustomerGroup, code=group) if group else None
    if current is None:
        catalog.price_list_create(tenant=ctx.tenant, code=payload["code"], **fields)
    else:
        catalog.price_list_update(current, **fields)


def warehouse_write(ctx: Context, payload: dict, deleting: bool) -> None:
    current = ctx.get(Warehouse, code=payload["code"])
    if deleting:
        ctx.forget(Warehouse, code=payload["code"])
        return catalog.warehouse_delete(current)
    fields = _given(payload, "name", "country")
    if current is None:
        catalog.warehouse_create(tenant=ctx.tenant, code=payload["code"], **fields)
    else:
        catalog.warehouse_update(current, **fields)


PRODUCT_FIELDS = ("title", "brand", "description", "attributes", "compliance_category", "is_active")


def product_write(ctx: Context, payload: dict, deleting: bool) -> None:
    handle = payload["handle"]
    current = ctx.product(handle)
    if deleting:
        catalog.product_delete(current)
        return ctx.clear()  # its SKUs went with it
    fields = _given(payload, *PRODUCT_FIELDS)
    if "category" in payload:
        fields["category"] = ctx.category(payload["category"])
    if current is None:
        current = catalog.product_create(tenant=ctx.tenant, handle=handle, **fields)
    else:
        catalog.product_update(current, **fields)
    if "translations" in payload:
        _translations_set(current, payload["translations"])
    if "media" in payload:
        product_media_set(current, payload["media"])


def _translations_set(product: Product, translations: dict) -> None:
    live = {t.locale: {"title": t.title, "description": t.description} for t in product.translations.all()}
    for locale, values in translations.items():
        if live.get(locale) != values:
            catalog.product_translation_set(product, locale=locale, **values)
    for locale in set(live) - set(translations):
        catalog.product_translation_delete(product, locale=locale)


def sku_write(ctx: Context, payload: dict, deleting: bool) -> None:
    code = payload["code"]
    current = ctx.get(SKU, code=code)
    if deleting:
        catalog.sku_delete(current)
        return ctx.forget(SKU, code=code)
    fields = _given(payload, "attributes", "is_active")
    fields.update({name: Decimal(payload[name]) for name in ("margin_rate", "conversion_rate") if name in payload})
    if current is None:
        catalog.sku_create(product=ctx.product(payload["product"]), code=code, **fields)
    else:
        catalog.sku_update(current, **fields)


def price_write(ctx: Context, payload: dict, deleting: bool) -> None:
    price_list, sku = ctx.get(PriceList, code=payload["price_list"]), ctx.get(SKU, code=payload["sku"])
    if deleting:
        return catalog.price_delete(price_list=price_list, sku=sku)
    catalog.price_set(price_list=price_list, sku=sku, amount=Decimal(payload["amount"]))


def stock_write(ctx: Context, payload: dict, deleting: bool) -> None:
    warehouse, sku = ctx.get(Warehouse, code=payload["warehouse"]), ctx.get(SKU, code=payload["sku"])
    if deleting:
        return catalog.stock_delete(sku=sku, warehouse=warehouse)
    catalog.stock_set(sku=sku, warehouse=warehouse, quantity=payload["quantity"])


def policy_write(ctx: Context, payload: dict, deleting: bool) -> None:
    current = ctx.get(Policy, slug=payload["slug"])
    if deleting:
        ctx.forget(Policy, slug=payload["slug"])
        return policies.policy_delete(current)
    fields = _given(payload, "kind", "locale", "region", "title", "body")
    if current is None:
        policies.policy_create(tenant=ctx.tenant, slug=payload["slug"], **fields)
    else:
        policies.policy_update(current, **fields)


def document_write(ctx: Context, payload: dict, deleting: bool) -> None:
    current = ctx.get(Document, slug=payload["slug"])
    if deleting:
        ctx.forget(Document, slug=payload["slug"])
        return documents.document_delete(current)
    fields = _given(payload, "kind", "format", "locale", "title", "body")
    if "product" in payload:
        fields["product"] = ctx.product(payload["product"])
    _document_upsert(ctx, current, payload, fields)


def review_write(ctx: Context, payload: dict, deleting: bool) -> None:
    current = ctx.get(Document, slug=payload["slug"])
    if deleting:
        ctx.forget(Document, slug=payload["slug"])
        return documents.document_delete(current)
    fields = _given(payload, "author", "body", "rating", "title", "locale")
    fields["product"] = ctx.product(payload["product"])
    if current is None:
        fields.setdefault("title", f"Review by {payload['author']}"[:300])
        fields.update(kind=DocumentKind.REVIEW, format=DocumentFormat.TEXT)
    _document_upsert(ctx, current, payload, fields)


def qa_write(ctx: Context, payload: dict, deleting: bool) -> None:
    current = ctx.get(Document, slug=payload["slug"])
    if deleting:
        ctx.forget(Document, slug=payload["slug"])
        return documents.document_delete(current)
    fields = _given(payload, "question", "author", "locale")
    if "answer" in payload:
        fields["body"] = payload["answer"]
    fields["product"] = ctx.product(payload["product"])
    author = fields.get("author", current.author if current else "")
    fields["title"] = documents.qa_title(author)
    if current is None:
        fields.update(kind=DocumentKind.QA, format=DocumentFormat.TEXT)
    _document_upsert(ctx, current, payload, fields)


def _document_upsert(ctx: Context, current: Document | None, payload: dict, fields: dict) -> None:
    upload = file_bytes(payload, ctx.directory)
    filename = Path(payload.get("file", "")).name
    if upload is not None:
        fields.pop("body", None)  # the service extracts it from the file
    if current is None:
        documents.document_create(tenant=ctx.tenant, slug=payload["slug"], upload=upload, filename=filename, **fields)
    else:
        if upload is not None and current.body == payload["body"] and current.source_file:
            upload = None  # the same text: keep the stored file
        documents.document_update(current, upload=upload, filename=filename, **fields)


WRITERS = {
    "category": category_write, "customer_group": customer_group_write, "price_list": price_list_write,
    "warehouse": warehouse_write, "product": product_write, "sku": sku_write, "price": price_write,
    "stock": stock_write, "policy": policy_write, "document": document_write, "review": review_write,
    "qa": qa_write,
}  # fmt: skip
