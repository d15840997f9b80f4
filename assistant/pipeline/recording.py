"""AnswerRecorder: write the answer record (inputs, prompt, versions, evidence, verdict, cost, timings)."""

from decimal import Decimal

from django.conf import settings

from assistant.pipeline.types import Draft, Guarded, Prompt, Retrieved, Verified
from governance.authentication import Caller
from governance.models import AnswerRecord
from governance.services import answer_record_create


def cost_estimate(draft: Draft) -> Decimal:
    prompt_rate, completion_rate = settings.ASSISTANT_COST_PER_1K.get(draft.provider, (0.0, 0.0))
    cost = (draft.prompt_tokens * prompt_rate + draft.completion_tokens * completion_rate) / 1000
    return Decimal(str(round(cost, 6)))


class AnswerRecorder:
    def run(
        self,
        caller: Caller,
        guarded: Guarded,
        *,
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
            for p in (retrieved.passages if retrieved else ())
        ]
        versions = retrieved.versions if retrieved else {}
        return answer_record_create(
            claims=verified.claims,
            citations=verified.citations,
            tenant=caller.tenant,
            customer_group=caller.customer_group,
            api_key=caller.api_key,
            capability=ask.capability,
            conversation_id=ask.conversation_id,
            locale=guarded.locale,
            question=guarded.question or (f"{ask.target_kind}:{ask.target}" if ask.target else ""),
            history=[{"role": t.role, "content": t.content} for t in ask.history],
            prompt=f"{request.system}\n\n{request.prompt}" if request else "",
            template_version=prompt.template_version if prompt else None,
            embedding_space=versions.get("embedding_space", ""),
            reranker_version=versions.get("reranker", ""),
            provider=draft.provider,
            model=draft.model,
            route_reason=draft.route_reason[:200],
            risk=guarded.risk,
            confidence=retrieved.confidence if retrieved else 0.0,
            retrieved=retrieved_rows,
            draft=draft.text,
            answer=verified.answer,
            output=verified.output,
            verdict=verified.verdict,
            unconfirmed=list(verified.unconfirmed),
            latency_ms={k: round(v, 2) for k, v in latency_ms.items()},
            prompt_tokens=draft.prompt_tokens,
            completion_tokens=draft.completion_tokens,
            cost_estimate=cost_estimate(draft) if not draft.cache_hit else Decimal(0),
            cache_hit=draft.cache_hit,
        )
