import io
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from pypdf import PdfReader

from catalog.models import (
    SKU,
    TITLE_MAX,
    Category,
    ComplianceCategory,
    CustomerGroup,
    Price,
    PriceList,
    Product,
    ProductTranslation,
    StockLevel,
    Tenant,
    sku_code_validator,
)
from demo.policies import KINDS, REGIONS
from demo.seed import DEMO_SLUGS, demo_counts, demo_generate
from demo.tenants import TENANTS
from governance.models import ApiKey, hash_key
from knowledge.chunking import chunk_text
from knowledge.models import Document, Policy

TEST_SCALE = 0.05  # about 60 products and 120 SKUs: a few seconds, yet every category, list and document kind


def _seed(scale: float = TEST_SCALE) -> str:
    out = io.StringIO()
    call_command("seed_demo", scale=scale, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Keep the uploaded PDF manuals out of the shared media folder."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def seeded(db) -> str:
    return _seed()


def test_seed_demo__creates_two_tenants_with_english_and_german_texts(seeded):
    tenants = Tenant.objects.filter(slug__in=DEMO_SLUGS)

    assert sorted(tenants.values_list("slug", flat=True)) == sorted(DEMO_SLUGS)
    for tenant in tenants:
        assert (tenant.default_locale, tenant.locales) == ("en", ["en", "de"])
        products = Product.objects.filter(tenant=tenant)
        translations = ProductTranslation.objects.filter(product__tenant=tenant)
        assert set(translations.values_list("locale", flat=True)) == {"de"}  # English is the products' own text
        assert translations.count() == products.count() > 0
    assert ProductTranslation.objects.filter(title__contains="Zoll").exists()
    assert ProductTranslation.objects.filter(description__contains=" und ").exists()


def test_seed_demo__builds_a_category_tree_with_products_in_every_leaf(seeded):
    categories = Category.objects.filter(tenant__slug__in=DEMO_SLUGS)
    leaves = categories.filter(children__isnull=True)

    assert categories.count() >= 12
    assert categories.filter(parent__isnull=True, children__isnull=False).distinct().count() >= 6
    assert not leaves.filter(products__isnull=True).exists()


def test_seed_demo__prices_every_sku_on_every_list_with_b2b_cheaper(seeded):
    for price_list in PriceList.objects.filter(tenant__slug__in=DEMO_SLUGS):
        skus = SKU.objects.filter(tenant=price_list.tenant)
        assert price_list.prices.count() == skus.count() > 0
    assert not Price.objects.filter(amount__lte=0).exists()
    for tenant in Tenant.objects.filter(slug__in=DEMO_SLUGS):
        retail = dict(
            Price.objects.filter(price_list__tenant=tenant, price_list__customer_group=None).values_list(
                "sku", "amount"
            )
        )
        for price_list in PriceList.objects.filter(tenant=tenant, customer_group__isnull=False):
            assert all(amount < retail[sku] for sku, amount in price_list.prices.values_list("sku", "amount"))
    assert set(PriceList.objects.values_list("currency", flat=True)) == {"EUR", "GBP"}


def test_seed_demo__stocks_every_sku_in_two_warehouses_some_at_zero(seeded):
    for tenant in Tenant.objects.filter(slug__in=DEMO_SLUGS):
        levels = StockLevel.objects.filter(sku__tenant=tenant)
        assert tenant.warehouses.count() == 2
        assert levels.count() == 2 * SKU.objects.filter(tenant=tenant).count()
        assert levels.filter(quantity=0).exists()
        assert levels.filter(quantity__gt=0).exists()


def test_seed_demo__gives_each_tenant_a_group_limited_to_listed_categories(seeded):
    for tenant in Tenant.objects.filter(slug__in=DEMO_SLUGS):
        restricted = CustomerGroup.objects.get(tenant=tenant, all_categories=False)
        assert restricted.categories.count() >= 3
        assert restricted.price_lists.exists()
        assert CustomerGroup.objects.filter(tenant=tenant, code="retail", all_categories=True).exists()


def test_seed_demo__assigns_compliance_categories_by_product_type(seeded):
    def kinds(slug):
        return set(Product.objects.filter(category__slug=slug).values_list("compliance_category", flat=True))

    assert kinds("laptops") == {ComplianceCategory.CONTAINS_BATTERIES}
    assert kinds("cordless-drills") == {ComplianceCategory.CONTAINS_BATTERIES}
    assert kinds("lubricants") == {ComplianceCategory.HAZARDOUS}
    assert kinds("kitchen-knives") == {ComplianceCategory.AGE_RESTRICTED}
    assert kinds("monitors") == {ComplianceCategory.NONE}
    assert not SKU.objects.filter(margin_rate__lte=0).exists()
    assert not SKU.objects.filter(conversion_rate__lte=0).exists()


def test_seed_demo__ingests_the_pdf_manual_with_its_extracted_text(seeded):
    document = Document.objects.get(format="pdf")

    with document.source_file.open("rb") as handle:
        reader = PdfReader(handle)
        pages = len(reader.pages)
    assert pages >= 2
    assert document.kind == "manual" and document.product_id is not None
    assert "Setting the torque clutch" in document.body
    assert document.product.skus.first().code in document.body


@pytest.mark.model  # counts chunk tokens with the model's tokenizer
def test_seed_demo__publishes_every_policy_kind_per_region_with_history(seeded):
    for tenant in Tenant.objects.filter(slug__in=DEMO_SLUGS):
        policies = Policy.objects.filter(tenant=tenant).select_related("current_version")
        assert {(p.kind, p.region) for p in policies} == set(itertools.product(KINDS, REGIONS))
        assert all(p.current_version is not None for p in policies)
        assert {p.locale for p in policies if p.region == "DE"} == {"de"}
        revised = [p for p in policies if p.current_version.number == 2]
        assert len(revised) >= 2 and all(p.versions.count() == 2 for p in revised)
    german = Policy.objects.get(tenant__slug="acme-retail", slug="returns-de")
    assert "Widerrufsrecht" in german.body
    assert len(chunk_text(german.body)) >= 2  # long enough to be indexed in several parts


def test_seed_demo__writes_manuals_and_varied_reviews_tied_to_products(seeded):
    documents = Document.objects.filter(tenant__slug__in=DEMO_SLUGS)
    reviews = documents.filter(kind="review")

    assert documents.filter(kind__in=["manual", "warranty"], product__isnull=False).count() >= 20
    assert set(reviews.values_list("rating", flat=True)) == {1, 2, 3, 4, 5}
    assert not reviews.filter(product__isnull=True).exists()
    assert not reviews.filter(author="").exists()
    assert reviews.filter(locale="de").exists()


def test_seed_demo__marks_bulk_rows_for_indexing_and_schedules_it_on_commit(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _seed()

    assert not Product.objects.filter(index_changed_at__isnull=True).exists()
    assert not SKU.objects.filter(indexed_hash__isnull=False).exists()
    assert len(callbacks) >= 2 + Policy.objects.count()  # products, SKUs, then each policy and document


def test_seed_demo__second_run_changes_nothing(seeded):
    before = demo_counts()
    codes = list(SKU.objects.order_by("pk").values_list("code", "updated_at"))

    output = _seed()

    assert "exist already" in output
    assert demo_counts() == before
    assert list(SKU.objects.order_by("pk").values_list("code", "updated_at")) == codes


def test_seed_demo__writes_the_same_skus_as_a_fresh_generation(seeded):
    for spec in TENANTS:
        generated = [sku.code for product in demo_generate(spec, TEST_SCALE) for sku in product.skus]
        stored = list(SKU.objects.filter(tenant__slug=spec.slug).order_by("pk").values_list("code", flat=True))
        assert stored == generated
        assert [s.code for p in demo_generate(spec, TEST_SCALE) for s in p.skus][:20] == generated[:20]


def test_seed_demo__default_scale_generates_over_2000_valid_skus():
    products = {spec.slug: demo_generate(spec, 1.0) for spec in TENANTS}

    skus = [sku for drafts in products.values() for product in drafts for sku in product.skus]
    assert len(skus) >= 2000
    assert sum(len({p.category for p in drafts}) for drafts in products.values()) >= 12
    for sku in skus:
        sku_code_validator(sku.code)
        assert 0 < sku.margin_rate < 1 and 0 < sku.conversion_rate < 1 and sku.price > 0
    for drafts in products.values():
        assert len({p.handle for p in drafts}) == len(drafts)
        assert max(len(p.title) for p in drafts) <= TITLE_MAX and max(len(p.handle) for p in drafts) <= 120


def test_seed_demo__creates_an_admin_and_working_demo_api_keys(seeded):
    admin = get_user_model().objects.get(username="admin")

    assert admin.is_staff and admin.is_superuser and admin.check_password("admin")
    for spec in TENANTS:
        for key in spec.api_keys:
            raw = key.raw_key(spec.slug)
            stored = ApiKey.objects.get(prefix=key.prefix)
            assert stored.key_hash == hash_key(raw) and stored.tenant.slug == spec.slug
            assert raw in seeded


def test_seed_demo__leaves_an_existing_admin_alone(db):
    get_user_model().objects.create_user("admin", password="kept-secret")

    output = _seed()

    assert get_user_model().objects.get(username="admin").check_password("kept-secret")
    assert "Admin login" not in output
