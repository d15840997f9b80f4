"""The /ai/v1 API: chat, search, summarize, classify, generate. JSON, or server-sent events on request.

Each view validates its input, builds an `Ask` and hands it to the pipeline. With `Accept: text/event-stream`
the answer streams as `token` events (verified sentences only), then `citation` events, then one `final`
event whose verdict is the one the JSON response gives.
"""

import json
from contextlib import contextmanager

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
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
        raise exceptions.NotFound(str(exc)) from exc


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


class AnswerSerializer(serializers.Serializer):
    answer_id = serializers.UUIDField(help_text="The answer record; pass it to the citations endpoint.")
    capability = serializers.CharField()
    conversation_id = serializers.UUIDField(allow_null=True)
    verdict = serializers.ChoiceField(choices=Verdict.choices)
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


def answer_schema(input_serializer, output_serializer, summary: str):
    return extend_schema(
        tags=["assistant"],
        summary=summary,
        request=input_serializer,
        responses={
            (200, "application/json"): output_serializer,
            (200, EVENT_STREAM): OpenApiResponse(OpenApiTypes.STR, description=STREAM_DOC),
        },
    )


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
        data = answer_payload(answer.record, answer.verified, answer.retrieved)
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


class ChatApi(AssistantApi):
    """Answer a product or policy question with cited, catalog-verified sentences (multi-turn)."""

    class InputSerializer(serializers.Serializer):
        question = serializers.CharField(max_length=QUESTION_MAX, trim_whitespace=False)
        conversation_id = serializers.UUIDField(
            required=False, help_text="Continue a conversation; its earlier turns are loaded unless `history` is sent."
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
        )

    @answer_schema(InputSerializer, OutputSerializer, "Ask a question (chat)")
    def post(self, request):
        return super().post(request)


class AssistantSearchApi(AssistantApi):
    """Search the catalog, policies and documents, with a one-paragraph cited summary of the results."""

    class InputSerializer(SearchFiltersSerializer):
        in_stock = serializers.BooleanField(required=False, allow_null=True, default=None)

        class Meta:
            ref_name = "AssistantSearchInput"

    class OutputSerializer(AnswerSerializer):
        class Meta:
            ref_name = "SearchAnswer"

    def ask(self, data: dict) -> Ask:
        return Ask(capability="search", question=data["q"], locale=data.get("locale"), filters=search_filters(data))

    @answer_schema(InputSerializer, OutputSerializer, "Search with a cited summary")
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
