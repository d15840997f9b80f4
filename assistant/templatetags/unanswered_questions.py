"""`{% unanswered_questions_link product %}`: on a product's admin page, how many of its questions went unanswered."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html

from assistant.selectors import unanswered_question_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unanswered_questions_link(context, product) -> str:
    """A link to the product's unanswered questions, for a user who may see them; nothing otherwise."""
    request = context.get("request")
    if product is None or request is None or not request.user.has_perm("assistant.view_unansweredquestion"):
        return ""
    count = unanswered_question_count(product=product)
    query = urlencode({"product": product.handle, "tenant__id__exact": product.tenant_id})
    url = f"{reverse('admin:assistant_unansweredquestion_changelist')}?{query}"
    label = "1 unanswered question" if count == 1 else f"{count} unanswered questions"
    return format_html('<li><a href="{}" id="unanswered-questions">{}</a></li>', url, label)
