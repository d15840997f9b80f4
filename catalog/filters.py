"""Storefront filters (django-filter): they validate query parameters and apply the caller-independent ones.

Filters that depend on the caller (a category slug resolved in its tenant, prices from its price lists) are
declared here, so that validation and the OpenAPI schema see them, and applied by the selectors.
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from catalog.models import ComplianceCategory

SEARCH_MAX = 200  # longer than any title worth searching for; beyond it the query is an input error
PRICE_MAX_DIGITS = 12  # Price.amount's precision


class StrictBooleanField(forms.Field):
    """Read true/false (or 1/0); any other value is an error, not a filter silently dropped."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise ValidationError("Use true or false.", code="invalid") from None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


def by_selector(queryset, name, value):
    """Leave the queryset alone: the selector applies this filter, knowing the caller's tenant and prices."""
    return queryset


class PriceRangeForm(forms.Form):
    def clean(self):
        data = super().clean()
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_max", "Must be at least price_min.")
        return data


def price_filter(bound: str) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(
        method=by_selector, min_value=0, max_digits=PRICE_MAX_DIGITS,
        label=f"{bound} price in the caller's price list (any active SKU)",
    )  # fmt: skip


class ProductFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(
        method=by_selector, max_length=100, label="Category slug; includes its subcategories"
    )
    brand = django_filters.CharFilter(field_name="brand", lookup_expr="iexact", max_length=120)
    compliance_category = django_filters.ChoiceFilter(
        field_name="compliance_category", choices=ComplianceCategory.choices
    )
    is_active = StrictBooleanFilter(field_name="is_active")
    q = django_filters.CharFilter(
        field_name="title", lookup_expr="icontains", max_length=SEARCH_MAX, label="Title contains"
    )
    in_stock = StrictBooleanFilter(field_name="in_stock", label="Some active SKU has stock")
    price_min = price_filter("Lowest")
    price_max = price_filter("Highest")

    class Meta:
        form = PriceRangeForm


class SkuFilter(django_filters.FilterSet):
    product = django_filters.CharFilter(field_name="product__handle", max_length=120, label="Product handle")
    code = django_filters.CharFilter(field_name="code", lookup_expr="iexact", max_length=64)
    in_stock = StrictBooleanFilter(field_name="in_stock")
    price_min = price_filter("Lowest")
    price_max = price_filter("Highest")

    class Meta:
        form = PriceRangeForm


def filter_or_raise(filterset: django_filters.FilterSet) -> QuerySet:
    """Return the filtered queryset, or raise a ValidationError naming each bad parameter (a 400)."""
    if not filterset.is_valid():
        raise ValidationError(filterset.errors.as_data())
    return filterset.qs
