"""ContextResolver: what a question is about before it is answered: its conversation (earlier turns and
product) and the product the request names (a handle, or a SKU whose product it is).

A conversation resolves only for the tenant, key lineage and customer group that began it, and a product or
SKU only when the caller sees it; anything else is TargetNotFound naming the field (a 404 that does not say
whether the conversation or product exists elsewhere), raised before anything is retrieved or recorded.
"""

import uuid
from dataclasses import replace

from assistant import selectors
from assistant.pipeline.types import Ask, ProductContext, TargetNotFound, Turn
from core.tenancy import Caller

HISTORY_TURNS = 3  # earlier exchanges of a conversation loaded when the client sends only its id
CONTEXT_CAPABILITIES = ("chat", "search")  # the capabilities that take a product or SKU as context


class ContextResolver:
    def __init__(self, history_turns: int = HISTORY_TURNS):
        self.history_turns = history_turns

    def run(self, *, caller: Caller, ask: Ask) -> Ask:
        """Return the ask with its conversation id, earlier turns and product context resolved."""
        if ask.capability not in CONTEXT_CAPABILITIES:
            return ask
        named = _named_product(caller, ask)
        if ask.capability != "chat":
            return replace(ask, context=named)
        if ask.conversation_id is None:
            return replace(ask, conversation_id=uuid.uuid4(), context=named)
        conversation = selectors.conversation_get(caller=caller, conversation_id=ask.conversation_id)
        if conversation is None:
            raise TargetNotFound(f"No conversation {ask.conversation_id} for this caller.", "conversation_id")
        turns = selectors.conversation_turns_recent(conversation=conversation, limit=self.history_turns)
        history = ask.history or tuple(t for turn in turns for t in (Turn("user", turn.question),
                                                                      Turn("assistant", turn.answer)))  # fmt: skip
        latest = turns[-1] if turns else None
        kept = selectors.conversation_product_handle(conversation=conversation, latest=latest)
        return replace(ask, history=history, context=named or _kept_product(caller, kept))


def _named_product(caller: Caller, ask: Ask) -> ProductContext | None:
    """The product the request names, or None when it names none; TargetNotFound when the caller cannot see it."""
    if ask.product is not None:
        product = selectors.product_for_handle(caller=caller, handle=ask.product)
        if product is None:
            raise TargetNotFound(f"No product {ask.product!r} for this caller.", "product")
    elif ask.sku is not None:
        product = selectors.product_for_sku(caller=caller, code=ask.sku)
        if product is None:
            raise TargetNotFound(f"No SKU {ask.sku!r} for this caller.", "sku")
    else:
        return None
    return ProductContext(product.handle, product.pk, product.title)


def _kept_product(caller: Caller, handle: str) -> ProductContext | None:
    """The conversation's product, checked again: no longer visible, it still scopes the question (to nothing
    but the policies), so another product's passages never answer for it."""
    if not handle:
        return None
    product = selectors.product_for_handle(caller=caller, handle=handle)
    return ProductContext(handle, product.pk if product else None, product.title if product else "")
