"""AnswerRecorder: write the answer record (inputs, prompt, versions, evidence, verdict, cost, timings).

The record keeps PII as vault tokens only (question, history, prompt, draft, answer, claims, unconfirmed):
revealing them is the separate, audited `governance.detokenize_piitoken` permission.
"""

from decimal import Decimal

from django.conf import settings

from assistant.pipeline.types import Draft, Guarded, Prompt, Retrieved, Verified
from assistant.providers.redaction import retained_claims, retained_text
from core.tenancy import Caller
from governance.models import AnswerRecord
from governance.ratelimit import tokens_consume
from governance.services import answer_record_create


def cost_estimate(draft: Draft) -> Decimal:
    prompt_rate, completion_rate = settings.ASSISTANT_COST_PER_1K.get(draft.provider, (0.0, 0.0))
    cost = (draft.prompt_tokens * prompt_rate + draft.completion_tokens * completion_rate) / 1000
    return Decimal(str(round(cost, 6)))


class AnswerRecorder:
    def run(
        self,
        *,
        caller: Caller,
        guarded: Guarded,
        retrieved: Retrieved | None,
        prompt: Prompt | None,
        draft: Draft | None,
        verified: Verified,
        latency_ms: dict,
    ) -> AnswerRecord:
        ask = guarded.ask
        draft = draft or Draft(text="", provider="", model="", route_reason="")
        request = prompt.request if prompt else None
        retrieved_rows = [
            {"chunk_id": p.chunk.pk, "citation_id": p.chunk.citation_id, "score": round(p.score, 6)}
            | ({"relevance": p.relevance} if p.relevance is not None else {})
            for p in (retrieved.passages if retrieved else ())
        ]
        versions = retrieved.versions if retrieved else {}
        tenant = caller.tenant_id

        def kept(text: str) -> str:
            return retained_text(tenant, text)

        record = answer_record_create(
            claims=retained_claims(tenant, verified.claims),
            citations=verified.citations,
            tenant_id=caller.tenant_id,
            customer_group_id=caller.customer_group_id,
            api_key_id=caller.api_key_id,
            capability=ask.capability,
            conversation_id=ask.conversation_id,
            product=guarded.scope.product or "",
            locale=guarded.locale,
            question=kept(guarded.question) or (f"{ask.target_kind}:{ask.target}" if ask.target else ""),
            history=[{"role": t.role, "content": kept(t.content)} for t in ask.history],
            prompt=kept(f"{request.system}\n\n{request.prompt}") if request else "",
            template_version=prompt.template_version if prompt else None,
            embedding_space=versions.get("embedding_space", ""),
            reranker_version=versions.get("reranker", "")[:120],
            provider=draft.provider,
            model=draft.model,
            route_reason=draft.route_reason[:200],
            risk=guarded.risk,
            confidence=retrieved.confidence if retrieved else 0.0,
            retrieved=retrieved_rows,
            draft=kept(draft.text),
            answer=kept(verified.answer),
            output=verified.output,
            verdict=verified.verdict,
            abstain_reason=verified.abstain or "",
            unconfirmed=[kept(u) for u in verified.unconfirmed],
            latency_ms={k: round(v, 2) for k, v in latency_ms.items()},
            prompt_tokens=draft.prompt_tokens,
            completion_tokens=draft.completion_tokens,
            cost_estimate=cost_estimate(draft) if not draft.cache_hit else Decimal(0),
            cache_hit=draft.cache_hit,
        )
        if not draft.cache_hit:  # a cached draft cost no tokens now
            tokens_consume(tenant_id=tenant, tokens=record.prompt_tokens + record.completion_tokens)
        return record
