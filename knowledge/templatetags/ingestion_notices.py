"""`{% held_runs_notice %}`: the admin's notice while feed runs wait for review (on the index and catalog lists)."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from knowledge.ingestion.held import held_runs

register = template.Library()


@register.simple_tag(takes_context=True)
def held_runs_notice(context) -> str:
    """A warning linking to the held runs, for a user who may see runs; nothing when none is held."""
    request = context.get("request")
    if request is None or not request.user.has_perm("knowledge.view_ingestionrun"):
        return ""
    held = held_runs().count()
    if not held:
        return ""
    url = reverse("admin:knowledge_ingestionrun_changelist") + "?state__exact=held"
    runs = "1 feed run is" if held == 1 else f"{held} feed runs are"
    return format_html(
        '<ul class="messagelist"><li class="warning" id="held-runs-notice">{} held for review: nothing of it is '
        'applied until an editor applies or discards it. <a href="{}">Review held runs</a></li></ul>',
        runs, url,
    )  # fmt: skip
