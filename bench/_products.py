"""Which product a benchmark question is about, as a storefront's product page would name it in the request."""

import re


def _words(text: str) -> list[str]:
    return re.findall(r"[0-9a-zäöüß]+", text.lower())


def _names(title: str) -> list[list[str]]:
    """How a question names a product: its title before the first comma, or that without a trailing noun
    ("Sonora Studio 410 Max" for "Sonora Studio 410 Max Headphones, 30 h ANC"; a model number stays)."""
    name = _words(title.split(",")[0])
    return [name, name[:-1]] if len(name) >= 4 and name[-1].isalpha() else [name]


def _holds(words: list[str], name: list[str]) -> bool:
    return any(words[i : i + len(name)] == name for i in range(len(words) - len(name) + 1))


def with_products(questions: list[tuple[str, str]], keys: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """Give each (key name, question) the handle of the product it names (the longest name that key's caller
    sees), or None; `keys` maps key names to raw API keys."""
    from catalog.selectors import products_visible
    from core.tenancy import Caller
    from governance.models import ApiKey, hash_key

    named = {}
    for key in {key for key, _ in questions}:
        api_key = ApiKey.objects.select_related("tenant", "customer_group").get(key_hash=hash_key(keys[key]))
        caller = Caller.of(api_key.tenant, api_key.customer_group, api_key)
        rows = products_visible(caller=caller).order_by("handle").values_list("handle", "title")
        named[key] = [(name, handle) for handle, title in rows for name in _names(title)]
    asked = []
    for key, question in questions:
        words = _words(question)
        found = [(len(name), handle) for name, handle in named[key] if len(name) >= 2 and _holds(words, name)]
        best = max(found, key=lambda item: item[0], default=(0, None))
        asked.append((key, question, best[1]))
    return asked
