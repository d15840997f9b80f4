"""Attribute contracts: what a category's products must carry in `attributes`, typed, checked and coerced here.

A contract applies to the products of its category and of every subcategory without a contract of its own:
the nearest category with a contract wins, and its newest version is the one in force. Attributes a contract
does not declare pass unchanged. Every writer checks through `contract_check`: the product admin form, and
the importer's decide phase (knowledge.ingestion.contracts), which other bulk writers reuse.

Values are coerced only where the reading is unambiguous:

- number: a JSON number, or text holding one in plain decimal notation ("12.5", "-3", "1e3"), optionally
  followed by the contract's unit ("2200 W"); text with a decimal comma ("12,5") is refused (12.5 or 125?).
- integer: a whole JSON number (2.0 becomes 2), or text holding one ("12", "12 mm" with unit mm).
- boolean: true or false, 1 or 0, and the text forms true/false, yes/no, 1/0 in any case.
- text: a string; a number becomes its decimal text (12 -> "12"); a boolean, list or object is refused.
- choice: one of the allowed values; a number is read as its text, and a value matching exactly one allowed
  value when case and surrounding spaces are ignored becomes that value ("RED " -> "red").

A missing attribute, null, or empty text is absent: an error only when the attribute is required.
"""

import math
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from catalog.models import AttributeContract, AttributeField, AttributeType, Category

NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
INTEGER_RE = re.compile(r"^[+-]?\d+$")
TRUE_TEXT, FALSE_TEXT = ("true", "yes", "1"), ("false", "no", "0")
SHOWN_VALUES = 12  # allowed values a problem message lists before "…"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = AttributeType.TEXT
    unit: str = ""
    allowed_values: tuple[str, ...] = ()
    required: bool = False

    def describe(self) -> str:
        """What the field takes, in words: "a number in W", "one of: red, green"."""
        unit = f" in {self.unit}" if self.unit else ""
        if self.type == AttributeType.NUMBER:
            return f"a number{unit}"
        if self.type == AttributeType.INTEGER:
            return f"a whole number{unit}"
        if self.type == AttributeType.BOOLEAN:
            return "true or false"
        if self.type == AttributeType.CHOICE:
            shown = ", ".join(self.allowed_values[:SHOWN_VALUES])
            return f"one of: {shown}{', …' if len(self.allowed_values) > SHOWN_VALUES else ''}"
        return "text"


@dataclass(frozen=True)
class Contract:
    """A contract version as a plain value: what a check needs, read once."""

    id: int
    category_id: int
    category_slug: str
    version: int
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True)
class AttributeProblem:
    field: str  # "attributes.<name>", as the validation report names it
    problem: str
    missing: bool = False  # a required attribute without a value (counted for held runs)


@dataclass(frozen=True)
class Checked:
    attributes: dict  # the attributes with every declared value coerced to its type
    problems: tuple[AttributeProblem, ...]
    coerced: bool = False  # some value was rewritten ("12" -> 12)


class _Invalid(ValueError):
    pass


def _absent(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _without_unit(text: str, unit: str) -> str:
    text = text.strip()
    return text[: -len(unit)].rstrip() if unit and text.endswith(unit) else text


def _number(value, spec: FieldSpec):
    if isinstance(value, bool):
        raise _Invalid
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise _Invalid
        return value
    text = _without_unit(value, spec.unit) if isinstance(value, str) else ""
    if not NUMBER_RE.match(text):
        raise _Invalid
    number = int(text) if INTEGER_RE.match(text) else float(text)
    if not math.isfinite(number):
        raise _Invalid  # "1e999"
    return number


def _integer(value, spec: FieldSpec) -> int:
    number = _number(value, spec)
    if isinstance(number, float):
        if not number.is_integer():
            raise _Invalid
        return int(number)
    return number


def _boolean(value, spec: FieldSpec) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, int | str) else ""
    if text in TRUE_TEXT or text in FALSE_TEXT:
        return text in TRUE_TEXT
    raise _Invalid


def _text(value, spec: FieldSpec) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _Invalid


def _choice(value, spec: FieldSpec) -> str:
    text = _text(value, spec)
    if text in spec.allowed_values:
        return text
    folded = [allowed for allowed in spec.allowed_values if allowed.strip().casefold() == text.strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    raise _Invalid


COERCE = {
    AttributeType.TEXT: _text,
    AttributeType.NUMBER: _number,
    AttributeType.INTEGER: _integer,
    AttributeType.BOOLEAN: _boolean,
    AttributeType.CHOICE: _choice,
}


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def contract_check(contract: Contract, attributes: dict) -> Checked:
    """Check (and coerce) a product's attributes against a contract; the problems name each attribute."""
    coerced, problems, rewritten = dict(attributes), [], False
    for spec in contract.fields:
        value = attributes.get(spec.name)
        where = f"attributes.{spec.name}"
        if _absent(value):
            if spec.required:
                problems.append(
                    AttributeProblem(where, f"required attribute missing ({spec.describe()})", missing=True)
                )
            continue
        try:
            coerced[spec.name] = COERCE[spec.type](value, spec)
        except _Invalid:
            problems.append(AttributeProblem(where, f"expected {spec.describe()}, got {_shown(value)}"))
            continue
        new = coerced[spec.name]
        rewritten = rewritten or type(new) is not type(value) or new != value  # 1 == True, but not as JSON
    return Checked(coerced, tuple(problems), rewritten)


def _as_value(contract: AttributeContract) -> Contract:
    fields = tuple(
        FieldSpec(f.name, f.type, f.unit, tuple(f.allowed_values), f.required) for f in contract.fields.all()
    )
    return Contract(contract.pk, contract.category_id, contract.category.slug, contract.version, fields)


def contracts_in_force(tenant_id: int):
    """The newest version of each of the tenant's contracts, with their fields and categories (three queries)."""
    return (
        AttributeContract.objects.filter(tenant_id=tenant_id)
        .order_by("category_id", "-version")
        .distinct("category_id")
        .select_related("category")
        .prefetch_related("fields")
    )


class ContractBook:
    """A tenant's contracts in force and its category tree, read once; finds the contract a product follows."""

    def __init__(self, tenant_id: int):
        self.by_category = {c.category_id: _as_value(c) for c in contracts_in_force(tenant_id)}
        self.tenant_id = tenant_id
        self._tree: tuple[dict[int, int | None], dict[str, int]] | None = None

    def _categories(self) -> tuple[dict[int, int | None], dict[str, int]]:
        """{id: parent id} and {slug: id} of the tenant's categories (one query, on first use)."""
        if self._tree is None:
            rows = Category.objects.filter(tenant_id=self.tenant_id).values_list("pk", "parent_id", "slug")
            parents, ids = {}, {}
            for pk, parent_id, slug in rows:
                parents[pk], ids[slug] = parent_id, pk
            self._tree = parents, ids
        return self._tree

    def for_category(self, category_id: int | None) -> Contract | None:
        """The contract of the category or of its nearest ancestor that has one."""
        if not self.by_category or category_id is None:
            return None
        parents, seen = self._categories()[0], set()
        while category_id is not None and category_id not in seen:
            if category_id in self.by_category:
                return self.by_category[category_id]
            seen.add(category_id)
            category_id = parents.get(category_id)
        return None

    def for_path(self, path: str | None) -> Contract | None:
        """The contract for a feed's category path ("tools/drills"): the deepest slug on it with a contract."""
        if not self.by_category or not path:
            return None
        ids = self._categories()[1]
        for slug in reversed(path.split("/")):
            contract = self.by_category.get(ids.get(slug))
            if contract is not None:
                return contract
        return None


@transaction.atomic
def attribute_contract_publish(
    *, category: Category, fields: list[FieldSpec], note: str = "", created_by=None
) -> AttributeContract:
    """Publish the category's next contract version with these fields; earlier versions stay as they were."""
    Category.objects.select_for_update().filter(pk=category.pk).first()  # one version number at a time
    latest = AttributeContract.objects.filter(category=category).aggregate(n=Max("version"))["n"] or 0
    contract = AttributeContract(
        tenant_id=category.tenant_id, category=category, version=latest + 1, note=note, created_by=created_by
    )
    contract.full_clean()
    contract.save()
    rows, seen = [], set()
    for spec in fields:
        if spec.name in seen:
            raise ValidationError({"fields": f"The attribute “{spec.name}” is declared twice."})
        seen.add(spec.name)
        row = AttributeField(contract=contract, name=spec.name, type=spec.type, unit=spec.unit,
                             allowed_values=list(spec.allowed_values), required=spec.required)  # fmt: skip
        row.full_clean(exclude=["contract"])
        rows.append(row)
    AttributeField.objects.bulk_create(rows)
    return contract


def contract_for_category(category: Category) -> Contract | None:
    """The contract a product in `category` follows, if any (for one product; a bulk check uses a ContractBook)."""
    return ContractBook(category.tenant_id).for_category(category.pk)
