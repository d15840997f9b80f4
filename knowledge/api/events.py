"""`POST /api/v1/events/<source>/`: one signed change event from a shop's PIM or ERP (docs/feeds.md).

The request is authenticated by its signature, not by an API key: `X-Event-Timestamp` (Unix seconds) and
`X-Event-Signature: sha256=<hex HMAC-SHA256 of timestamp + "." + raw body>` under a live secret of the source.
Answers: 200 applied or stale; 400 a malformed body, envelope or timestamp header; 401 a signature that does not
verify, an unknown or revoked source, or a timestamp outside the window; 409 an event id taken before; 422 a
record that cannot apply (each naming the field or header); 503 a transient database error (send it again).
A refused event changes nothing.
"""

import json

from django.db import OperationalError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import authentication, exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge.ingestion.event_sources import SignatureRefused, event_source_verify
from knowledge.ingestion.events import EVENT_TYPES, Event, EventRejected, EventReplayed, event_apply
from knowledge.ingestion.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from knowledge.models import EventSource

VERSION_MAX = 2**63 - 1  # a bigint


def _header(request, name: str) -> str:
    return request.META.get("HTTP_" + name.upper().replace("-", "_"), "")


class EventSignatureAuthentication(authentication.BaseAuthentication):
    """The source named in the URL, proven by the request's signature; `request.auth` is the EventSource."""

    def authenticate(self, request):
        try:
            source = event_source_verify(
                name=request.parser_context["kwargs"].get("source", ""),
                timestamp=_header(request, TIMESTAMP_HEADER),
                signature=_header(request, SIGNATURE_HEADER),
                body=request.body,
            )
        except SignatureRefused as exc:
            if exc.status == status.HTTP_400_BAD_REQUEST:
                raise exceptions.ValidationError({exc.header: [exc.message]}) from None
            raise exceptions.AuthenticationFailed({exc.header: [exc.message]}) from None
        return (None, source)

    def authenticate_header(self, request):
        return f'{SIGNATURE_HEADER} realm="events"'


class EventSignatureScheme(OpenApiAuthenticationExtension):
    target_class = EventSignatureAuthentication
    name = "EventSignature"

    def get_security_definition(self, auto_schema):
        description = (
            f'`sha256=<hex HMAC-SHA256 of {TIMESTAMP_HEADER} + "." + the raw body>` under a secret of the source'
        )
        return {"type": "apiKey", "in": "header", "name": SIGNATURE_HEADER, "description": description}


class SignedBySource(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, EventSource)


class EventReceiveApi(APIView):
    """Apply one change event: a product upsert or delete, a price or a stock level (the feed record in `data`)."""

    authentication_classes = [EventSignatureAuthentication]
    permission_classes = [SignedBySource]
    throttle_classes = []  # a source is no storefront: refusing its changes would lose them, not slow a client

    class InputSerializer(serializers.Serializer):
        id = serializers.CharField(max_length=200, help_text="The event's id: taken once per source.")
        type = serializers.ChoiceField(choices=sorted(EVENT_TYPES))
        version = serializers.IntegerField(
            min_value=0, max_value=VERSION_MAX, required=False, help_text="Orders the events of one entity."
        )
        occurred_at = serializers.DateTimeField(required=False, help_text="Orders them when there is no version.")
        data = serializers.DictField(help_text="The feed record of the event's type (docs/feeds.md).")

        class Meta:
            ref_name = "EventInput"

        def validate(self, attrs):
            if attrs.get("version") is None and attrs.get("occurred_at") is None:
                raise serializers.ValidationError({"version": "Give `version` (an integer) or `occurred_at`."})
            return attrs

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField(source="event_id")
        status = serializers.CharField(source="outcome", help_text="applied or stale")
        action = serializers.CharField(help_text="new, changed, deleted or unchanged; empty when stale")
        entity = serializers.CharField()
        run = serializers.IntegerField(source="run_id", help_text="The ingestion run of the source's hour.")
        applied_version = serializers.IntegerField(allow_null=True, help_text="Stale: the version applied.")
        applied_occurred_at = serializers.DateTimeField(allow_null=True, help_text="Stale: the time applied.")

        class Meta:
            ref_name = "EventReceipt"

    @extend_schema(
        tags=["events"],
        request=InputSerializer,
        parameters=[OpenApiParameter(TIMESTAMP_HEADER, OpenApiTypes.INT, OpenApiParameter.HEADER, required=True)],
        responses={
            200: OutputSerializer,
            409: OpenApiResponse(description="An event with this id was taken before."),
            422: OpenApiResponse(description="The record cannot apply; the body names the field."),
            503: OpenApiResponse(description="A transient database error: send the event again, same id."),
        },
    )
    def post(self, request, source: str):
        try:
            body = json.loads(request.body, parse_constant=_no_constant)
        except ValueError as exc:  # JSONDecodeError, undecodable bytes, NaN or Infinity
            raise exceptions.ParseError(f"The body is not a JSON event: {exc}"[:300]) from None
        params = self.InputSerializer(data=body)
        params.is_valid(raise_exception=True)
        event = Event(**params.validated_data)
        try:
            receipt = event_apply(source=request.auth, event=event)
        except EventReplayed:
            detail = f"Event {event.id!r} was received from this source before; it is not applied again."
            return Response({"id": [detail]}, status=status.HTTP_409_CONFLICT)
        except EventRejected as exc:
            return Response(exc.errors, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        except OperationalError:  # a deadlock or lost connection rolled the event back: it may be sent again
            detail = "The event could not be applied just now; send it again with the same id."
            return Response(
                {"detail": detail}, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "1"}
            )
        return Response(self.OutputSerializer(receipt).data)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")
