"""The catalog admin for content editors. Every write of an indexable row goes through catalog.services."""

from django.contrib import admin
from django.db.models import Count

from catalog import services
from catalog.admin.contracts import AttributeContractAdmin  # noqa: F401 - registers the contract admin
from catalog.admin.forms import (
    CategoryForm,
    CustomerGroupForm,
    PriceInlineFormSet,
    ProductForm,
    SKUForm,
    SKUInlineForm,
    SKUInlineFormSet,
    StockInlineFormSet,
    TenantScopedForm,
)
from catalog.models import (
    SKU,
    Category,
    CustomerGroup,
    Price,
    PriceList,
    Product,
    ProductTranslation,
    StockLevel,
    Tenant,
    Warehouse,
)
from core.admin import (
    IndexedAdminMixin,
    IndexStatusFilter,
    ServiceAdminMixin,
    TenantLockedMixin,
    form_values,
    formset_save,
)
from core.indexable import SourceKind

INDEX_READONLY = ("version", "updated_at", "index_status_badge")


@admin.register(Tenant)
class TenantAdmin(ServiceAdminMixin, admin.ModelAdmin):
    list_display = ("name", "slug", "default_locale", "locales", "created_at")
    search_fields = ("name", "slug")

    def service_create(self, request, form):
        return services.tenant_create(**form_values(form, ("slug", "name", "default_locale", "locales")))


@admin.register(Category)
class CategoryAdmin(TenantLockedMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = CategoryForm
    list_display = ("name", "parent", "slug", "tenant")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "parent__parent__parent")
    search_fields = ("name", "slug")
    autocomplete_fields = ("parent",)

    def service_create(self, request, form):
        return services.category_create(
            tenant=form.cleaned_data["tenant"], **form_values(form, ("name", "slug", "parent"))
        )

    def service_update(self, request, obj, form):
        return services.category_update(obj, **form_values(form, ("name", "slug", "parent")))


@admin.register(CustomerGroup)
class CustomerGroupAdmin(TenantLockedMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = CustomerGroupForm
    list_display = ("name", "code", "tenant", "all_categories")
    list_filter = ("tenant", "all_categories")
    list_select_related = ("tenant",)
    search_fields = ("name", "code")
    filter_horizontal = ("categories",)

    def service_create(self, request, form):
        values = form_values(form, ("code", "name", "all_categories", "categories"))
        return services.customer_group_create(tenant=form.cleaned_data["tenant"], **values)


class PriceListForm(TenantScopedForm):
    tenant_unique = ("code",)

    class Meta:
        model = PriceList
        fields = ("tenant", "code", "name", "currency", "customer_group")

    def clean(self):
        cleaned = super().clean()
        self.check_same_tenant("customer_group")
        return cleaned


@admin.register(PriceList)
class PriceListAdmin(TenantLockedMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = PriceListForm
    list_display = ("name", "code", "currency", "customer_group", "tenant")
    list_filter = ("tenant", "currency")
    list_select_related = ("tenant", "customer_group__tenant")
    search_fields = ("name", "code")

    def service_create(self, request, form):
        values = form_values(form, ("code", "name", "currency", "customer_group"))
        return services.price_list_create(tenant=form.cleaned_data["tenant"], **values)


class WarehouseForm(TenantScopedForm):
    tenant_unique = ("code",)

    class Meta:
        model = Warehouse
        fields = ("tenant", "code", "name", "country")


@admin.register(Warehouse)
class WarehouseAdmin(TenantLockedMixin, ServiceAdminMixin, admin.ModelAdmin):
    form = WarehouseForm
    list_display = ("name", "code", "country", "tenant")
    list_filter = ("tenant", "country")
    list_select_related = ("tenant",)
    search_fields = ("name", "code")

    def service_create(self, request, form):
        return services.warehouse_create(
            tenant=form.cleaned_data["tenant"], **form_values(form, ("code", "name", "country"))
        )


class ProductTranslationInline(admin.StackedInline):
    model = ProductTranslation
    fields = ("locale", "title", "description")
    extra = 0


class SKUInline(admin.TabularInline):
    model = SKU
    fk_name = "product"
    form = SKUInlineForm
    formset = SKUInlineFormSet
    fields = ("code", "is_active", "margin_rate", "conversion_rate", "attributes")
    extra = 0
    show_change_link = True


@admin.register(Product)
class ProductAdmin(TenantLockedMixin, IndexedAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    index_kind = SourceKind.PRODUCT
    form = ProductForm
    list_display = (
        "title", "brand", "category", "compliance_category", "is_active", "sku_count", "updated_at",
        "index_status_badge",
    )  # fmt: skip
    list_filter = ("tenant", "compliance_category", "is_active", IndexStatusFilter)
    list_select_related = ("tenant", "category__parent__parent")
    search_fields = ("title", "handle", "brand", "category__name")
    autocomplete_fields = ("category",)
    readonly_fields = INDEX_READONLY
    inlines = (ProductTranslationInline, SKUInline)
    actions = ("reindex_selected",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(sku_count=Count("skus"))

    @admin.display(description="SKUs", ordering="sku_count")
    def sku_count(self, obj):
        return obj.sku_count

    def service_create(self, request, form):
        return services.product_create(tenant=form.cleaned_data["tenant"], **form_values(form, services.PRODUCT_FIELDS))

    def service_update(self, request, obj, form):
        return services.product_update(obj, **form_values(form, services.PRODUCT_FIELDS))

    def service_delete(self, request, obj):
        services.product_delete(obj)
        return True

    def save_formset(self, request, form, formset, change):
        product = form.instance
        if formset.model is ProductTranslation:
            formset_save(
                formset,
                create=lambda f: _translation_save(product, f),
                update=lambda old, f: _translation_save(product, f, old),
                delete=lambda old: _translation_delete(product, old),
            )
        else:
            formset_save(
                formset,
                create=lambda f: services.sku_create(product=product, **form_values(f, services.SKU_FIELDS)),
                update=lambda sku, f: services.sku_update(sku, **form_values(f, services.SKU_FIELDS)),
                delete=services.sku_delete,
            )


def _translation_save(product: Product, form, old: ProductTranslation | None = None) -> ProductTranslation:
    values = form_values(form, ("locale", "title", "description"))
    if old is not None and old.locale != values["locale"]:
        old.delete()  # the row moved to another locale; the service below re-indexes the product
    return services.product_translation_set(product, **values)


def _translation_delete(product: Product, translation: ProductTranslation) -> None:
    translation.delete()
    services.products_touch(Product.objects.filter(pk=product.pk))  # no product_translation_delete service yet


class PriceInline(admin.TabularInline):
    model = Price
    formset = PriceInlineFormSet
    fields = ("price_list", "amount")
    extra = 0


class StockLevelInline(admin.TabularInline):
    model = StockLevel
    formset = StockInlineFormSet
    fields = ("warehouse", "quantity", "updated_at")
    readonly_fields = ("updated_at",)
    extra = 0


@admin.register(SKU)
class SKUAdmin(IndexedAdminMixin, ServiceAdminMixin, admin.ModelAdmin):
    index_kind = SourceKind.SKU
    form = SKUForm
    list_display = (
        "code", "product", "tenant", "is_active", "margin_rate", "conversion_rate", "updated_at", "index_status_badge",
    )  # fmt: skip
    list_filter = ("tenant", "is_active", IndexStatusFilter)
    list_select_related = ("product", "tenant")
    search_fields = ("code", "product__title", "product__handle")
    autocomplete_fields = ("product",)
    fields = ("product", "code", "attributes", "is_active", "margin_rate", "conversion_rate", "tenant", *INDEX_READONLY)
    readonly_fields = ("tenant", *INDEX_READONLY)
    inlines = (PriceInline, StockLevelInline)
    actions = ("reindex_selected",)

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "product") if obj is not None else self.readonly_fields

    def service_create(self, request, form):
        return services.sku_create(product=form.cleaned_data["product"], **form_values(form, services.SKU_FIELDS))

    def service_update(self, request, obj, form):
        return services.sku_update(obj, **form_values(form, services.SKU_FIELDS))

    def service_delete(self, request, obj):
        services.sku_delete(obj)
        return True

    def save_formset(self, request, form, formset, change):
        sku = form.instance
        if formset.model is Price:
            formset_save(
                formset,
                create=lambda f: _price_save(sku, f),
                update=lambda old, f: _price_save(sku, f, old),
                delete=lambda old: services.price_delete(price_list=old.price_list, sku=sku),
            )
        else:
            formset_save(
                formset,
                create=lambda f: _stock_save(sku, f),
                update=lambda old, f: _stock_save(sku, f, old),
                delete=lambda old: services.stock_delete(sku=sku, warehouse=old.warehouse),
            )


def _price_save(sku: SKU, form, old: Price | None = None) -> Price:
    price_list = form.cleaned_data["price_list"]
    if old is not None and old.price_list_id != price_list.pk:  # moved to another list: one price per list and SKU
        services.price_delete(price_list=old.price_list, sku=sku)
    return services.price_set(price_list=price_list, sku=sku, amount=form.cleaned_data["amount"])


def _stock_save(sku: SKU, form, old: StockLevel | None = None) -> StockLevel:
    warehouse = form.cleaned_data["warehouse"]
    if old is not None and old.warehouse_id != warehouse.pk:  # moved: one stock row per warehouse and SKU
        services.stock_delete(sku=sku, warehouse=old.warehouse)
    return services.stock_set(sku=sku, warehouse=warehouse, quantity=form.cleaned_data["quantity"])
