"""The /ai/v1 API: chat, search, summarize, classify, generate. JSON, or server-sent events on request.

Each view validates its input, builds an `Ask` and hands it to the pipeline. With `Accept: text/event-stream`
the answer streams as `token` events (verified sentences only), then `citation` events, then one `final`
event whose verdict is the one the JSON response gives.
"""

import json
from contextlib import contextmanager

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant.pipeline.capabilities import LABEL_SETS
from assistant.pipeline.guardrails import QUESTION_MAX
from assistant.pipeline.pipeline import AssistantPipeline
from assistant.pipeline.presenters import answer_payload
from assistant.pipeline.types import Ask, GuardrailRejected, TargetNotFound, Turn
from core.tenancy import LOCALE_CHOICES
from governance.models import Verdict
from knowledge.api.search import SearchFiltersSerializer, search_filters

HISTORY_MAX = 20  # turns a client may send; older ones add cost, not context
EVENT_STREAM = "text/event-stream"


@contextmanager
def _client_errors():
    """Turn the pipeline's input errors into the API's: a rejected question is a 400, a missing target a 404."""
    try:
        yield
    except GuardrailRejected as exc:
        raise exceptions.ValidationError(exc.errors) from exc
    except TargetNotFound as exc:
        raise exceptions.NotFound({exc.field: [str(exc)]} if exc.field else str(exc)) from exc


class EventStreamRenderer(renderers.BaseRenderer):
    """Lets `Accept: text/event-stream` through negotiation; errors before the stream render as one event."""

    media_type = EVENT_STREAM
    format = "event-stream"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return sse("error", data).encode()


def sse(event: str, data) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


class CitationRefSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The [n] in the answer.")
    citation_id = serializers.CharField(help_text="kind:key@version#anchor of the exact chunk version.")
    kind = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField(help_text="Resolves the passage: GET it with the same credentials.")


class ResultSerializer(serializers.Serializer):
    citation_id = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField()
    snippet = serializers.CharField()
    product = serializers.CharField(allow_null=True)
    score = serializers.FloatField()


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A short machine code.")
    message = serializers.CharField(help_text="The same in words, for people.")


SCOPES = ["product", "catalog", "document"]
ABSTAIN_CODES = (
    "product_unavailable, nothing_retrieved, weak_retrieval, provider_error, unsupported (the passages do not "
    "confirm what the draft said), not_answered (nothing in the product's or the catalog's information answers "
    "the question)"
)


class AnswerSerializer(serializers.Serializer):
    answer_id = serializers.UUIDField(help_text="The answer record; pass it to the citations endpoint.")
    capability = serializers.CharField()
    conversation_id = serializers.UUIDField(allow_null=True, help_text="chat: send it back to continue.")
    product = serializers.CharField(
        allow_null=True, help_text="The handle of the product the question was about (named, or kept by the chat)."
    )
    scope = serializers.ChoiceField(
        choices=SCOPES,
        help_text="Where the answer was looked for: `product` (its content and the policies), `catalog` (all "
        "the caller sees) or `document`.",
    )
    scope_reason = ReasonSerializer(
        allow_null=True, help_text="Why a question about a product reached the catalog (code `comparison`)."
    )
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    abstain_reason = ReasonSerializer(allow_null=True, help_text=f"When abstained; codes: {ABSTAIN_CODES}.")
    answer = serializers.CharField(allow_blank=True, help_text="Verified sentences with [n] citations.")
    output = serializers.JSONField(allow_null=True, help_text="classify and generate: the verified JSON.")
    unconfirmed = serializers.ListField(child=serializers.CharField(), help_text="What could not be confirmed.")
    results = ResultSerializer(many=True, allow_null=True, help_text="search: the hits the summary is built from.")
    provider = serializers.CharField(allow_blank=True)
    model = serializers.CharField(allow_blank=True)
    template_version = serializers.CharField(allow_null=True)
    cache_hit = serializers.BooleanField()
    latency_ms = serializers.DictField(child=serializers.FloatField(), help_text="Milliseconds per pipeline step.")
    citations = CitationRefSerializer(many=True)


STREAM_DOC = (
    'With `Accept: text/event-stream`: `token` events ({"text"}) carrying verified sentences only, then one '
    "`citation` event per citation, then a `final` event with the verdict (the answer's fields without citations)."
)


def answer_schema(input_serializer, output_serializer, summary: str, examples=()):
    return extend_schema(
        tags=["assistant"],
        summary=summary,
        request=input_serializer,
        responses={
            (200, "application/json"): output_serializer,
            (200, EVENT_STREAM): OpenApiResponse(OpenApiTypes.STR, description=STREAM_DOC),
            404: OpenApiResponse(description="A product, SKU or conversation the caller may not see, named by field."),
        },
        examples=list(examples),
    )


def _answer_example(**fields) -> dict:
    return {
        "answer_id": "5b0c6f7e-2f1d-4a52-9a57-3f1e6a0c9b21",
        "capability": "chat",
        "conversation_id": "0f8e2a44-8d0b-4c2e-9d59-2b7d1c4e6a10",
        "product": "sonora-anc",
        "scope": "product",
        "scope_reason": None,
        "verdict": "verified",
        "abstain_reason": None,
        "answer": "The battery lasts 30 hours per charge [1].",
        "output": None,
        "unconfirmed": [],
        "results": None,
        "provider": "extractive",
        "model": "extractive-v2",
        "template_version": "chat@1",
        "cache_hit": False,
        "latency_ms": {"retrieve": 41.2, "synthesize": 3.1, "verify": 6.4, "total": 58.0},
        "citations": [
            {
                "number": 1,
                "citation_id": "product:sonora-anc@3#c1",
                "kind": "product",
                "title": "Sonora ANC Wireless Headphones",
                "url": "/api/v1/citations/product:sonora-anc@3%23c1?answer=5b0c6f7e-2f1d-4a52-9a57-3f1e6a0c9b21",
            }
        ],
        **fields,
    }


CHAT_EXAMPLES = (
    OpenApiExample(
        "About one product", value={"question": "How long does the battery last?", "product": "sonora-anc"},
        request_only=True,
    ),
    OpenApiExample(
        "By SKU, continuing a conversation",
        value={"question": "Is there a quieter one?", "sku": "SON-ANC-100-BLK",
               "conversation_id": "0f8e2a44-8d0b-4c2e-9d59-2b7d1c4e6a10"},
        request_only=True,
    ),
    OpenApiExample("Answered from the product's content", value=_answer_example(), response_only=True),
    OpenApiExample(
        "An alternatives question reaches the catalog",
        value=_answer_example(
            scope="catalog",
            scope_reason={"code": "comparison", "message": "The question asks for alternatives or a comparison "
                          "('a quieter one'): other products were searched too."},
            answer="The Studio Monitor Headphones are closed-back and isolate noise [1].",
            citations=[],
        ),
        response_only=True,
    ),
    OpenApiExample(
        "Abstained",
        value=_answer_example(
            verdict="abstained",
            abstain_reason={"code": "nothing_retrieved",
                            "message": "Nothing in the product's content or the policies matches the question."},
            answer="I can't confirm an answer to that from our catalog and policies.",
            citations=[],
        ),
        response_only=True,
    ),
)  # fmt: skip


class AssistantApi(APIView):
    """Shared handling: validate, build the Ask, answer as JSON or as a stream."""

    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]
    capability = ""

    def ask(self, data: dict) -> Ask:
        raise NotImplementedError

    def post(self, request):
        params = self.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        ask = self.ask(params.validated_data)
        pipeline = AssistantPipeline()
        if request.accepted_renderer.format == EventStreamRenderer.format:
            return self._stream(pipeline, request, ask)
        with _client_errors():
            answer = pipeline.answer(request.caller, ask)
        data = answer_payload(answer.record, answer.verified, answer.retrieved, answer.scope)
        return Response(self.OutputSerializer(data).data)

    def _stream(self, pipeline: AssistantPipeline, request, ask: Ask):
        events = pipeline.stream(request.caller, ask)
        with _client_errors():
            first = next(events)  # input errors surface here, before any byte is sent, as a 400/404

        def body():
            yield sse(*first)
            for event in events:
                yield sse(*event)

        response = StreamingHttpResponse(body(), content_type=EVENT_STREAM)
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass events through as they come
        return response


class TurnSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["user", "assistant"])
    content = serializers.CharField(max_length=QUESTION_MAX, trim_whitespace=False)


class ProductContextSerializer(serializers.Serializer):
    """`product` or `sku` (not both): the product the question is about."""

    product = serializers.SlugField(
        max_length=120, required=False, help_text="A product handle: the question is about this product."
    )
    sku = serializers.CharField(
        max_length=64, required=False, help_text="A SKU code: the question is about its product."
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "product" in attrs and "sku" in attrs:
            message = "Send product or sku, not both."
            raise serializers.ValidationError({"product": [message], "sku": [message]})
        return attrs


class ChatApi(AssistantApi):
    """Answer a product or policy question with cited, catalog-verified sentences (multi-turn)."""

    class InputSerializer(ProductContextSerializer):
        question = serializers.CharField(max_length=QUESTION_MAX, trim_whitespace=False)
        conversation_id = serializers.UUIDField(
            required=False,
            help_text="Continue a conversation of the same key lineage and customer group: its earlier turns are "
            "loaded unless `history` is sent, and its product stays the context unless `product` or `sku` is sent.",
        )
        history = TurnSerializer(many=True, required=False, max_length=HISTORY_MAX)
        locale = serializers.ChoiceField(choices=LOCALE_CHOICES, required=False, help_text="Default: detected.")

        class Meta:
            ref_name = "ChatInput"

    class OutputSerializer(AnswerSerializer):
        class Meta:
            ref_name = "ChatAnswer"

    def ask(self, data: dict) -> Ask:
        return Ask(
            capability="chat",
            question=data["question"],
            locale=data.get("locale"),
            conversation_id=data.get("conversation_id"),
            history=tuple(Turn(t["role"], t["content"]) for t in data.get("history", [])),
            product=data.get("product"),
            sku=data.get("sku"),
        )

    @answer_schema(InputSerializer, OutputSerializer, "Ask a question (chat)", CHAT_EXAMPLES)
    def post(self, request):
        return super().post(request)


class AssistantSearchApi(AssistantApi):
    """Search the catalog, policies and documents, with a one-paragraph cited summary of the results."""

    class InputSerializer(ProductContextSerializer, SearchFiltersSerializer):
        in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "AssistantSearchInput"

    class OutputSerializer(AnswerSerializer):
        class Meta:
            ref_name = "SearchAnswer"

    def ask(self, data: dict) -> Ask:
        return Ask(
            capability="search",
            question=data["q"],
            locale=data.get("locale"),
            filters=search_filters(data),
            product=data.get("product"),
            sku=data.get("sku"),
        )

    @answer_schema(
        InputSerializer,
        OutputSerializer,
        "Search with a cited summary",
        [OpenApiExample("Within one product", value={"q": "battery life", "product": "sonora-anc"}, request_only=True)],
    )
    def post(self, request):
        return super().post(request)


class TargetSerializer(serializers.Serializer):
    product = serializers.SlugField(max_length=120, required=False, help_text="A product handle.")
    document = serializers.SlugField(max_length=120, required=False, help_text="A document slug.")
    locale = serializers.ChoiceField(choices=LOCALE_CHOICES, required=False)


class SummarizeApi(AssistantApi):
    """Summarize a product's reviews, or a document, with citations."""

    class InputSerializer(TargetSerializer):
        class Meta:
            ref_name = "SummarizeInput"

        def validate(self, attrs):
            if ("product" in attrs) == ("document" in attrs):
                raise serializers.ValidationError({"product": "Name exactly one of product or document."})
            return attrs

    class OutputSerializer(AnswerSerializer):
        class Meta:
            ref_name = "SummarizeAnswer"

    def ask(self, data: dict) -> Ask:
        kind = "product" if "product" in data else "document"
        task = "Summarize the customer reviews." if kind == "product" else "Summarize the document."
        return Ask("summarize", task, data.get("locale"), target_kind=kind, target=data[kind])

    @answer_schema(InputSerializer, OutputSerializer, "Summarize reviews or a document")
    def post(self, request):
        return super().post(request)


class ClassifyApi(AssistantApi):
    """Classify a message's intent, or a product's compliance category, into a fixed label set (JSON)."""

    class InputSerializer(serializers.Serializer):
        label_set = serializers.ChoiceField(choices=sorted(LABEL_SETS), default="intent")
        text = serializers.CharField(max_length=QUESTION_MAX, required=False, allow_blank=True, default="")
        product = serializers.SlugField(max_length=120, required=False, help_text="compliance: the product.")
        locale = serializers.ChoiceField(choices=LOCALE_CHOICES, required=False)

        class Meta:
            ref_name = "ClassifyInput"

        def validate(self, attrs):
            if attrs["label_set"] == "intent" and not attrs["text"].strip():
                raise serializers.ValidationError({"text": "Send the text whose intent to classify."})
            if attrs["label_set"] == "compliance" and not attrs.get("product") and not attrs["text"].strip():
                raise serializers.ValidationError({"product": "Name the product (or send a text) to classify."})
            return attrs

    class OutputSerializer(AnswerSerializer):
        class Meta:
            ref_name = "ClassifyAnswer"

    def ask(self, data: dict) -> Ask:
        return Ask(
            "classify",
            data["text"],
            data.get("locale"),
            target_kind="product" if data.get("product") else None,
            target=data.get("product"),
            label_set=data["label_set"],
        )

    @answer_schema(InputSerializer, OutputSerializer, "Classify intent or compliance category")
    def post(self, request):
        return super().post(request)


class GenerateApi(AssistantApi):
    """Draft a product description from the catalog's attribute values only (JSON)."""

    class InputSerializer(serializers.Serializer):
        product = serializers.SlugField(max_length=120, help_text="The product handle.")
        locale = serializers.ChoiceField(choices=LOCALE_CHOICES, required=False)

        class Meta:
            ref_name = "GenerateInput"

    class OutputSerializer(AnswerSerializer):
        class Meta:
            ref_name = "GenerateAnswer"

    def ask(self, data: dict) -> Ask:
        return Ask("generate", "Write a product description draft.", data.get("locale"), target_kind="product",
                   target=data["product"])  # fmt: skip

    @answer_schema(InputSerializer, OutputSerializer, "Draft a product description")
    def post(self, request):
        return super().post(request)
