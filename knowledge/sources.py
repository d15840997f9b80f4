"""What each indexable kind contributes to the index: its rows, natural key, version and passages."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from catalog.models import SKU, Product
from knowledge.chunking import ChunkDraft, chunk_text
from knowledge.models import Document, Policy, SourceKind
from knowledge.product_passages import ProductText, attribute_lines, product_drafts

CATEGORY_PATH = "category__parent__parent__parent"  # the demo trees are 2-3 deep; deeper ones cost a query a level


@dataclass(frozen=True)
class Passage:
    """One locale's text of a source, split into chunk drafts."""

    locale: str
    title: str
    drafts: list[ChunkDraft]


@dataclass(frozen=True)
class SourceSpec:
    kind: str
    model: type[models.Model]
    queryset: Callable[[], models.QuerySet]
    key: Callable[[models.Model], str]
    version: Callable[[models.Model], int]
    passages: Callable[[models.Model], list[Passage]]
    product_id: Callable[[models.Model], int | None]
    category_id: Callable[[models.Model], int | None]


def _category_path(category) -> str:
    names = []
    while category is not None:
        names.append(category.name)
        category = category.parent
    return " › ".join(reversed(names))


def _single(anchor: str, text: str) -> list[ChunkDraft]:
    """A SKU's text is one leaf (chunked like a document in the rare case it is long)."""
    drafts = chunk_text(text, prefix=anchor)
    if len(drafts) == 1 and drafts[0].is_leaf:
        drafts[0].anchor = anchor
    return drafts


def product_passages(product: Product) -> list[Passage]:
    """One passage per heading, attribute group, paragraph and list item, for each locale the product has."""
    if not product.is_active:
        return []  # an inactive product leaves the index; its chunks are retired
    path, locale = _category_path(product.category), product.tenant.default_locale
    text = ProductText(product.title, product.brand, path, product.attributes, product.description)
    passages = [Passage(locale, product.title, product_drafts(text))]
    for tr in product.translations.all():
        if tr.locale != locale:
            translated = ProductText(tr.title, product.brand, path, product.attributes, tr.description)
            passages.append(Passage(tr.locale, tr.title, product_drafts(translated, prefix=f"{tr.locale}-")))
    return passages


def sku_passages(sku: SKU) -> list[Passage]:
    product = sku.product
    if not (sku.is_active and product.is_active):
        return []
    variant = ", ".join(f"{k}: {v}" for k, v in sorted(sku.attributes.items()))
    title = f"{product.title} ({variant})" if variant else product.title
    lines = attribute_lines({**product.attributes, **sku.attributes})
    head = f"SKU {sku.code}\nBrand: {product.brand}\nCategory: {_category_path(product.category)}"
    text = "\n".join([head, *lines])
    return [Passage(sku.tenant.default_locale, title, _single("spec", text))]


def policy_passages(policy: Policy) -> list[Passage]:
    version = policy.current_version
    if version is None:
        return []
    return [Passage(policy.locale, version.title, chunk_text(version.body, prefix="c"))]


def document_passages(document: Document) -> list[Passage]:
    if not document.body.strip():
        return []
    return [Passage(document.locale, document.title, chunk_text(document.body, prefix="p"))]


SOURCES: dict[str, SourceSpec] = {
    SourceKind.PRODUCT: SourceSpec(
        kind=SourceKind.PRODUCT,
        model=Product,
        queryset=lambda: Product.objects.select_related("tenant", CATEGORY_PATH).prefetch_related("translations"),
        key=lambda p: p.handle,
        version=lambda p: p.version,
        passages=product_passages,
        product_id=lambda p: p.pk,
        category_id=lambda p: p.category_id,
    ),
    SourceKind.SKU: SourceSpec(
        kind=SourceKind.SKU,
        model=SKU,
        queryset=lambda: SKU.objects.select_related("tenant", f"product__{CATEGORY_PATH}"),
        key=lambda s: s.code,
        version=lambda s: s.version,
        passages=sku_passages,
        product_id=lambda s: s.product_id,
        category_id=lambda s: s.product.category_id,
    ),
    SourceKind.POLICY: SourceSpec(
        kind=SourceKind.POLICY,
        model=Policy,
        queryset=lambda: Policy.objects.select_related("tenant", "current_version"),
        key=lambda p: p.slug,
        version=lambda p: p.current_version.number if p.current_version_id else 0,
        passages=policy_passages,
        product_id=lambda p: None,
        category_id=lambda p: None,
    ),
    SourceKind.DOCUMENT: SourceSpec(
        kind=SourceKind.DOCUMENT,
        model=Document,
        queryset=lambda: Document.objects.select_related("tenant", "product"),
        key=lambda d: d.slug,
        version=lambda d: d.version,
        passages=document_passages,
        product_id=lambda d: d.product_id,
        category_id=lambda d: d.product.category_id if d.product_id else None,
    ),
}
