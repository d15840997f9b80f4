"""Write a tenant's policies, documents and reviews through the knowledge services (versioned, indexed)."""

from catalog.models import Product, Tenant
from demo.bulk import Progress, no_progress
from demo.documents import documents_generate
from demo.policies import policies_generate
from demo.products import ProductDraft
from demo.reviews import reviews_generate
from demo.tenants import TenantSpec
from knowledge.models import DocumentFormat, DocumentKind
from knowledge.services.documents import document_create
from knowledge.services.policies import policy_create, policy_update


def policies_create(tenant: Tenant, spec: TenantSpec, *, actor=None) -> int:
    """Publish every policy as version 1, and the revised ones as version 2; return how many policies."""
    drafts = policies_generate(tenant_slug=spec.slug, tenant_name=spec.name, domain=spec.domain, b2b=spec.b2b)
    for draft in drafts:
        policy = policy_create(
            tenant=tenant,
            published_by=actor,
            slug=draft.slug,
            kind=draft.kind,
            locale=draft.locale,
            region=draft.region,
            title=draft.title,
            body=draft.body,
        )
        if draft.revision:
            title, body = draft.revision
            policy_update(policy, published_by=actor, title=title, body=body)
    return len(drafts)


def documents_create(
    tenant: Tenant,
    spec: TenantSpec,
    drafts: list[ProductDraft],
    products: dict[str, Product],
    *,
    actor=None,
    progress: Progress = no_progress,
) -> int:
    """Create the manuals, warranty terms and guides; a PDF draft is uploaded as its file; return the count."""
    documents = documents_generate(spec, drafts)
    for draft in progress(documents, desc=f"{tenant.slug}: documents", unit="doc"):
        fields = dict(slug=draft.slug, kind=draft.kind, locale=draft.locale, title=draft.title)
        if draft.pdf is not None:
            document_create(
                tenant=tenant,
                upload=draft.pdf,
                filename=draft.filename,
                created_by=actor,
                format=DocumentFormat.PDF,
                product=products[draft.product_handle],
                **fields,
            )
        else:
            document_create(
                tenant=tenant, created_by=actor, body=draft.body, product=products[draft.product_handle], **fields
            )
    return len(documents)


def reviews_create(
    tenant: Tenant,
    spec: TenantSpec,
    drafts: list[ProductDraft],
    products: dict[str, Product],
    *,
    progress: Progress = no_progress,
) -> int:
    """Create customer reviews as plain-text documents with a rating and an author; return the count."""
    reviews = reviews_generate(tenant_slug=spec.slug, products=drafts, b2b=spec.b2b)
    for review in progress(reviews, desc=f"{tenant.slug}: reviews", unit="review"):
        document_create(
            tenant=tenant,
            slug=review.slug,
            kind=DocumentKind.REVIEW,
            format=DocumentFormat.TEXT,
            locale=review.locale,
            title=review.title,
            body=review.body,
            product=products[review.product_handle],
            rating=review.rating,
            author=review.author,
        )
    return len(reviews)
