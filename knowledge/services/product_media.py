"""Product media: a product's image URLs, in order (not indexed: they carry no searchable text)."""

from django.db import transaction

from catalog.models import Product
from knowledge.models import ProductMedia


@transaction.atomic
def product_media_set(product: Product, urls: list[str]) -> bool:
    """Make the product's media exactly `urls`, in order; return whether anything changed."""
    current = list(ProductMedia.objects.filter(product=product).order_by("position").values_list("url", flat=True))
    if current == list(urls):
        return False
    ProductMedia.objects.filter(product=product).delete()
    media = [ProductMedia(product=product, position=i, url=url) for i, url in enumerate(urls)]
    for item in media:
        item.full_clean(exclude=["product"])
    ProductMedia.objects.bulk_create(media)
    return True
