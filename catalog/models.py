from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from core.indexable import IndexedSource, content_hash_field, pending_index
from core.tenancy import LOCALE_CHOICES


def validate_json_object(value):
    """Attributes are a JSON object of name -> value; a list or a scalar cannot be indexed."""
    if not isinstance(value, dict):
        raise ValidationError('Enter a JSON object, e.g. {"colour": "red"}.')


TITLE_MAX = 300  # a storefront title; a 10 MB "title" is an input error, not data
TEXT_MAX = 100_000  # descriptions and attribute payloads beyond this are rejected, not truncated


class Tenant(models.Model):
    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    default_locale = models.CharField(max_length=5, choices=LOCALE_CHOICES, default="en")
    locales = ArrayField(models.CharField(max_length=5, choices=LOCALE_CHOICES), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        # Granted per tenant (django-guardian object permissions) to compliance reviewers.
        permissions = [("review_records", "Can review the tenant's retained answer records")]

    def __str__(self):
        return self.name


class Category(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="categories")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)

    class Meta:
        ordering = ["tenant", "name"]
        verbose_name_plural = "categories"
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="category_slug_unique_per_tenant")]

    def __str__(self):
        return f"{self.parent} › {self.name}" if self.parent_id else self.name


class CustomerGroup(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="customer_groups")
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    all_categories = models.BooleanField(default=True, help_text="Sees every category; otherwise only those listed.")
    categories = models.ManyToManyField(Category, blank=True, related_name="customer_groups")

    class Meta:
        ordering = ["tenant", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="group_code_unique_per_tenant")]

    def __str__(self):
        return f"{self.name} ({self.tenant.slug})"


class ComplianceCategory(models.TextChoices):
    NONE = "none", "None"
    AGE_RESTRICTED = "age_restricted", "Age-restricted"
    HAZARDOUS = "hazardous", "Hazardous"
    CONTAINS_BATTERIES = "contains_batteries", "Contains batteries"


class Product(IndexedSource):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    handle = models.SlugField(max_length=120, help_text="Stable key used in URLs and citations.")
    title = models.CharField(max_length=TITLE_MAX)
    description = models.TextField(blank=True, max_length=TEXT_MAX)
    brand = models.CharField(max_length=120, blank=True)
    attributes = models.JSONField(default=dict, blank=True, validators=[validate_json_object])
    compliance_category = models.CharField(
        max_length=30, choices=ComplianceCategory.choices, default=ComplianceCategory.NONE
    )
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    index_nonce = models.PositiveIntegerField(default=0, editable=False)  # bumped when related text changes
    updated_at = models.DateTimeField(auto_now=True)
    content_hash = content_hash_field(
        "title", "description", "brand", "attributes", "compliance_category", "category_id", "is_active",
        "index_nonce",
    )  # fmt: skip

    class Meta:
        ordering = ["tenant", "title"]
        constraints = [models.UniqueConstraint(fields=["tenant", "handle"], name="product_handle_unique_per_tenant")]
        indexes = [
            pending_index("product_index_pending"),
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="product_title_trgm"),  # fuzzy leg
            GinIndex(fields=["brand"], opclasses=["gin_trgm_ops"], name="product_brand_trgm"),
            # and product_title_words, on to_tsvector('simple', title): migration 0007, in raw SQL
            # a category filter's products read from the index alone (knowledge.retrieval.visibility)
            models.Index(fields=["category"], include=["tenant", "id"], name="product_by_category"),
        ]

    def __str__(self):
        return self.title


class ProductTranslation(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="translations")
    locale = models.CharField(max_length=5, choices=LOCALE_CHOICES)
    title = models.CharField(max_length=TITLE_MAX)
    description = models.TextField(blank=True, max_length=TEXT_MAX)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "locale"], name="one_translation_per_locale")]

    def __str__(self):
        return f"{self.product} [{self.locale}]"


sku_code_validator = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", "Use letters, digits and . _ / - only.")


class SKU(IndexedSource):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="skus")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    code = models.CharField(max_length=64, validators=[sku_code_validator])
    attributes = models.JSONField(default=dict, blank=True, validators=[validate_json_object])
    is_active = models.BooleanField(default=True)
    margin_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=0, validators=[MinValueValidator(-1), MaxValueValidator(1)],
        help_text="Gross margin as a fraction of price (0.25 = 25 %).",
    )  # fmt: skip
    conversion_rate = models.DecimalField(
        max_digits=5, decimal_places=4, default=0, validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Views that became orders, as a fraction.",
    )  # fmt: skip
    version = models.PositiveIntegerField(default=1, editable=False)
    index_nonce = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    content_hash = content_hash_field("code", "attributes", "is_active", "product_id", "index_nonce")

    class Meta:
        verbose_name = "SKU"
        ordering = ["tenant", "code"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="sku_code_unique_per_tenant")]
        indexes = [
            pending_index("sku_index_pending"),
            GinIndex(fields=["code"], opclasses=["gin_trgm_ops"], name="sku_code_trgm"),  # typos, partial codes
            # code prefixes, any case: the fuzzy leg's first try for a code-shaped query
            models.Index(F("tenant"), OpClass(Upper("code"), name="text_pattern_ops"), name="sku_code_prefix"),
        ]

    def __str__(self):
        return self.code


class PriceList(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="price_lists")
    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, validators=[RegexValidator(r"^[A-Z]{3}$", "ISO 4217 code, e.g. EUR.")])
    customer_group = models.ForeignKey(
        CustomerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="price_lists",
        help_text="Empty: the tenant's default (retail) list, used when a group has no list of its own.",
    )  # fmt: skip

    class Meta:
        ordering = ["tenant", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="price_list_code_unique_per_tenant")]

    def __str__(self):
        return f"{self.name} ({self.currency})"


class Price(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    sku = models.ForeignKey(SKU, on_delete=models.CASCADE, related_name="prices")
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["price_list", "sku"], name="one_price_per_list_and_sku"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="price_not_negative"),
        ]

    def __str__(self):
        return f"{self.sku} {self.amount} {self.price_list.currency}"


class Warehouse(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="warehouses")
    code = models.SlugField(max_length=30)
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "code"], name="warehouse_code_unique_per_tenant")]

    def __str__(self):
        return self.name


class StockLevel(models.Model):
    sku = models.ForeignKey(SKU, on_delete=models.CASCADE, related_name="stock_levels")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="stock_levels")
    quantity = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sku", "warehouse"], name="one_stock_row_per_warehouse")]

    def __str__(self):
        return f"{self.sku} @ {self.warehouse.code}: {self.quantity}"


# Attribute contracts -------------------------------------------------------------------------------------------


class AttributeType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number (decimals allowed)"
    INTEGER = "integer", "Whole number"
    BOOLEAN = "boolean", "Yes or no (true / false)"
    CHOICE = "choice", "One of a list of values"


UNIT_TYPES = (AttributeType.NUMBER, AttributeType.INTEGER)  # a unit means something only for a quantity
attribute_name_validator = RegexValidator(
    r"^[\w][\w .-]*$", "Use letters, digits, spaces and _ . - only, starting with a letter, digit or _."
)


class AttributeContract(models.Model):
    """One version of a category's attribute schema. Versions are never edited: each edit publishes the next
    one (catalog.contracts.attribute_contract_publish) and the newest is in force. It applies to the products
    of its category and of every subcategory without a contract of its own (the nearest category wins)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="attribute_contracts")
    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="attribute_contracts",
        help_text="Its products, and those of its subcategories that have no contract of their own, must follow it.",
    )  # fmt: skip
    version = models.PositiveIntegerField(editable=False)
    note = models.CharField(max_length=200, blank=True, help_text="Why this version: shown in the history.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["tenant", "category", "-version"]
        constraints = [models.UniqueConstraint(fields=["category", "version"], name="contract_version_per_category")]

    def __str__(self):
        return f"{self.category} v{self.version}"


class AttributeField(models.Model):
    """One attribute a contract declares: its key in a product's attributes, its type and what it allows."""

    contract = models.ForeignKey(AttributeContract, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(
        max_length=100, validators=[attribute_name_validator],
        help_text="The attribute's key, exactly as products and feeds write it, e.g. power_w.",
    )  # fmt: skip
    type = models.CharField(max_length=10, choices=AttributeType.choices, default=AttributeType.TEXT)
    unit = models.CharField(
        max_length=20, blank=True,
        help_text="Numbers only: the unit values are in (W, kg, mm). A value written with it, “2200 W”, is accepted.",
    )  # fmt: skip
    allowed_values = ArrayField(
        models.CharField(max_length=100), blank=True, default=list,
        help_text="“One of a list” only: the values allowed, separated by commas (red,green,blue).",
    )  # fmt: skip
    required = models.BooleanField(default=False, help_text="Every product under the contract must have a value.")

    class Meta:
        ordering = ["contract", "id"]
        constraints = [models.UniqueConstraint(fields=["contract", "name"], name="contract_field_name_unique")]

    def __str__(self):
        return self.name

    def clean(self):
        if self.type == AttributeType.CHOICE and not self.allowed_values:
            raise ValidationError({"allowed_values": "List the values a choice allows, separated by commas."})
        if self.type != AttributeType.CHOICE and self.allowed_values:
            raise ValidationError({"allowed_values": "Only a “one of a list” attribute has allowed values."})
        if self.unit and self.type not in UNIT_TYPES:
            raise ValidationError({"unit": "Only a number or a whole number has a unit."})
        if len(set(self.allowed_values)) != len(self.allowed_values):
            raise ValidationError({"allowed_values": "Each allowed value once, please."})
