"""Admin forms for the catalog: attributes as JSON objects, per-tenant checks (core.admin.TenantScopedForm)."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from catalog.contracts import contract_check, contract_for_category
from catalog.models import SKU, Category, CustomerGroup, Product
from core.admin import TenantScopedForm


class AttributesMixin:
    """Attributes are a JSON object; an emptied box means none ({}), never NULL (the column is NOT NULL)."""

    def clean_attributes(self):
        value = self.cleaned_data.get("attributes")
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValidationError('Attributes must be a JSON object, e.g. {"colour": "red"}.')
        return value


class ProductForm(AttributesMixin, TenantScopedForm):
    tenant_unique = ("handle",)

    class Meta:
        model = Product
        fields = (
            "tenant",
            "category",
            "handle",
            "title",
            "brand",
            "description",
            "attributes",
            "compliance_category",
            "is_active",
        )

    def clean(self):
        cleaned = super().clean()
        self.check_same_tenant("category")
        self.check_contract()
        return cleaned

    def check_contract(self) -> None:
        """Hold the attributes to the category's contract: an error per attribute; valid values coerced."""
        category = self.cleaned_data.get("category")
        attributes = self.cleaned_data.get("attributes")
        if category is None or attributes is None or self.has_error("category") or self.has_error("attributes"):
            return
        contract = contract_for_category(category)
        if contract is None:
            return
        checked = contract_check(contract, attributes)
        source = f"the contract of “{contract.category_slug}”, version {contract.version}"
        for problem in checked.problems:
            name = problem.field.removeprefix("attributes.")
            self.add_error("attributes", f"“{name}”: {problem.problem} ({source}).")
        if not checked.problems:
            self.cleaned_data["attributes"] = checked.attributes


def sku_code_owner(tenant_id: int, code: str, exclude_pks) -> SKU | None:
    """Return the SKU that already uses `code` in the tenant (ignoring `exclude_pks`), if any."""
    return (
        SKU.objects.filter(tenant_id=tenant_id, code=code)
        .exclude(pk__in=[pk for pk in exclude_pks if pk])
        .select_related("product")
        .first()
    )


def sku_code_message(owner: SKU) -> str:
    return f"SKU code “{owner.code}” is already used in this tenant (by product “{owner.product.title}”)."


class SKUInlineForm(AttributesMixin, forms.ModelForm):
    class Meta:
        model = SKU
        fields = ("code", "is_active", "margin_rate", "conversion_rate", "attributes")


class SKUForm(AttributesMixin, forms.ModelForm):
    """The standalone SKU form: the tenant is the product's."""

    class Meta:
        model = SKU
        fields = ("product", "code", "attributes", "is_active", "margin_rate", "conversion_rate")

    def clean(self):
        cleaned = super().clean()
        product = cleaned.get("product") or (self.instance.product if self.instance.product_id else None)
        code = cleaned.get("code")
        if product is not None and code:
            owner = sku_code_owner(product.tenant_id, code, [self.instance.pk])
            if owner is not None:
                self.add_error("code", sku_code_message(owner))
        return cleaned


class SKUInlineFormSet(BaseInlineFormSet):
    """The SKUs under a product: codes unique within the form and within the product's tenant."""

    def clean(self):
        super().clean()
        tenant_id = self.instance.tenant_id  # the parent form has validated (and set) it by now
        live = [f for f in self.forms if not (self.can_delete and self._should_delete_form(f))]
        leaving = [f.instance.pk for f in self.forms if f not in live]
        seen = set()
        for form in live:
            code = getattr(form, "cleaned_data", {}).get("code")
            if not code:
                continue
            if code in seen:
                form.add_error("code", f"SKU code “{code}” appears twice in this form.")
                continue
            seen.add(code)
            owner = sku_code_owner(tenant_id, code, [form.instance.pk, *leaving]) if tenant_id else None
            if owner is not None:
                form.add_error("code", sku_code_message(owner))


class TenantChildInlineFormSet(BaseInlineFormSet):
    """Prices and stock under a SKU: the price list or warehouse must be the SKU's tenant's."""

    related_field = ""

    def clean(self):
        super().clean()
        sku = self.instance  # on add, the parent form has set its product (and so its tenant) by now
        tenant_id = sku.tenant_id or (sku.product.tenant_id if sku.product_id else None)
        for form in self.forms:
            related = getattr(form, "cleaned_data", {}).get(self.related_field)
            if related is not None and tenant_id is not None and related.tenant_id != tenant_id:
                form.add_error(self.related_field, f"“{related}” belongs to another tenant.")


class PriceInlineFormSet(TenantChildInlineFormSet):
    related_field = "price_list"


class StockInlineFormSet(TenantChildInlineFormSet):
    related_field = "warehouse"


class CategoryForm(TenantScopedForm):
    tenant_unique = ("slug",)

    class Meta:
        model = Category
        fields = ("tenant", "parent", "name", "slug")

    def clean(self):
        cleaned = super().clean()
        self.check_same_tenant("parent")
        parent = cleaned.get("parent")
        if parent is not None and self.instance.pk and _is_below(parent, self.instance.pk):
            self.add_error("parent", "A category cannot be moved below itself.")
        return cleaned


def _is_below(category: Category, ancestor_pk: int) -> bool:
    seen = set()
    while category is not None and category.pk not in seen:
        if category.pk == ancestor_pk:
            return True
        seen.add(category.pk)
        category = category.parent
    return False


class CustomerGroupForm(TenantScopedForm):
    tenant_unique = ("code",)

    class Meta:
        model = CustomerGroup
        fields = ("tenant", "code", "name", "all_categories", "categories")

    def clean(self):
        cleaned = super().clean()
        tenant_id = self.form_tenant_id()
        foreign = [c for c in cleaned.get("categories") or () if tenant_id and c.tenant_id != tenant_id]
        if foreign:
            self.add_error("categories", f"“{foreign[0]}” belongs to another tenant.")
        return cleaned
