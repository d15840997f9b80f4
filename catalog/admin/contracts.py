"""Attribute contracts in the admin: a category's attributes as an inline of fields. Each save publishes the next
version (catalog.contracts.attribute_contract_publish); earlier versions stay listed, read-only."""

from django.contrib import admin, messages
from django.db.models import Count, Exists, OuterRef
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from catalog.contracts import FieldSpec, attribute_contract_publish
from catalog.models import AttributeContract, AttributeField
from core.admin import TenantScopedForm, adopt

INTRO = (
    "List the attributes the products of this category must carry; products of its subcategories follow it too, "
    "unless a subcategory has a contract of its own (the nearest category's contract wins). Saving publishes a "
    "new version, in force at once for the product form and for every feed import; earlier versions stay as "
    "history. Attributes the contract does not list are left alone."
)
FIELDS_HELP = (
    "Name: the attribute's key as products and feeds write it. Type: what its value must be; numbers written "
    "as text (“12.5”, “2200 W” with unit W) are accepted and stored as numbers. Allowed values: for “one of a "
    "list”, separated by commas. Required: a product without a value is refused."
)


def superseded():
    """True for a contract version that a newer version of the same category replaced."""
    newer = AttributeContract.objects.filter(category=OuterRef("category"), version__gt=OuterRef("version"))
    return Exists(newer)


class InForceFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", "in force"), ("no", "earlier versions")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(is_superseded=self.value() == "no")
        return queryset


class AttributeContractForm(TenantScopedForm):
    class Meta:
        model = AttributeContract
        fields = ("tenant", "category", "note")

    def clean(self):
        cleaned = super().clean()
        self.check_same_tenant("category")
        return cleaned


class AttributeFieldInline(admin.TabularInline):
    """The contract's attributes; editable on the version in force (saving makes the next version)."""

    model = AttributeField
    fields = ("name", "type", "unit", "allowed_values", "required")
    verbose_name = "attribute"
    verbose_name_plural = "attributes"

    def get_extra(self, request, obj=None, **kwargs):
        return 3 if obj is None else 1

    def _contract_admin(self):
        return self.admin_site._registry[self.parent_model]

    # The fields are part of the contract: whoever may publish the contract may edit them.
    def has_add_permission(self, request, obj=None):
        parent = self._contract_admin()
        return parent.has_add_permission(request) if obj is None else parent.has_change_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return self._contract_admin().has_view_permission(request, obj)


@admin.register(AttributeContract)
class AttributeContractAdmin(admin.ModelAdmin):
    form = AttributeContractForm
    inlines = (AttributeFieldInline,)
    list_display = ("category", "tenant", "version", "in_force", "field_count", "note", "created_by", "created_at")
    list_filter = ("tenant", InForceFilter)
    list_select_related = ("tenant", "category__parent", "created_by")
    search_fields = ("category__name", "category__slug", "note")
    autocomplete_fields = ("category",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.annotate(field_count=Count("fields"), is_superseded=superseded())

    def get_fieldsets(self, request, obj=None):
        fields = ("tenant", "category", "note") if obj is None else (
            "tenant", "category", "version", "note", "created_by", "created_at", "versions")  # fmt: skip
        return [(None, {"fields": fields, "description": format_html("{}<br>{}", INTRO, FIELDS_HELP)})]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("tenant", "category", "version", "created_by", "created_at", "versions")

    @admin.display(description="in force", boolean=True, ordering="is_superseded")
    def in_force(self, obj):
        return not obj.is_superseded

    @admin.display(description="attributes", ordering="field_count")
    def field_count(self, obj):
        return obj.field_count

    @admin.display(description="versions")
    def versions(self, obj):
        rows = (
            AttributeContract.objects.filter(category_id=obj.category_id)
            .annotate(n=Count("fields"))
            .order_by("-version")
        )
        items = [
            (reverse("admin:catalog_attributecontract_change", args=[v.pk]), v.version, v.n,
             f"{v.created_at:%Y-%m-%d %H:%M}", " (in force)" if i == 0 else "", v.note)
            for i, v in enumerate(rows)
        ]  # fmt: skip
        return format_html_join(
            mark_safe("<br>"), '<a href="{}">version {}</a>: {} attributes, {}{} {}', items
        ) or format_html("—")

    def has_change_permission(self, request, obj=None):
        """Only the version in force is edited (into the next version); earlier ones are history."""
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        return not AttributeContract.objects.filter(category_id=obj.category_id, version__gt=obj.version).exists()

    def has_delete_permission(self, request, obj=None):
        return False  # past versions are what past checks applied; a contract with no attributes lifts one

    def save_model(self, request, obj, form, change):
        """Nothing here: save_related publishes the version together with its attributes."""

    def save_related(self, request, form, formsets, change):
        for formset in formsets:  # read by the admin's history message; nothing is saved row by row
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        current = form.instance
        if change and not form.has_changed() and not any(f.has_changed() for f in formsets):
            self.message_user(request, f"Nothing changed: version {current.version} stays in force.")
            return
        category = form.cleaned_data.get("category") or current.category
        contract = attribute_contract_publish(
            category=category, fields=_specs(formsets[0]), note=form.cleaned_data.get("note", ""),
            created_by=request.user,
        )  # fmt: skip
        adopt(current, contract)
        self.message_user(
            request, f"Version {contract.version} of the contract for “{category}” is now in force.", messages.SUCCESS
        )

    def response_change(self, request, obj):
        if "_continue" in request.POST:  # the new version has its own page; the old one is history now
            return HttpResponseRedirect(reverse("admin:catalog_attributecontract_change", args=[obj.pk]))
        return super().response_change(request, obj)


def _specs(formset) -> list[FieldSpec]:
    """The attributes the inline holds after the edit (rows marked for deletion and blank rows left out)."""
    specs = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or not data.get("name") or (formset.can_delete and formset._should_delete_form(form)):
            continue
        specs.append(
            FieldSpec(data["name"], data["type"], data.get("unit", ""), tuple(data.get("allowed_values") or ()),
                      data.get("required", False))
        )  # fmt: skip
    return specs
