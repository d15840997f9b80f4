"""POST /api/v1/feeds/: a whole feed imported as one run (stage, decide, apply); GET /api/v1/feeds/<id>/ shows a run."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiRequest, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Tenant
from core.api import Conflict, PayloadTooLarge, not_found
from knowledge.api.schema import COMPONENTS
from knowledge.api.writes import WriteApiMixin
from knowledge.ingestion.diff import decision_of
from knowledge.ingestion.run import ImportBusy
from knowledge.ingestion.submit import (
    FEED_MAX_BYTES,
    IDEMPOTENCY_KEY_MAX,
    IdempotencyConflict,
    feed_submit,
    run_changes,
    run_problems,
)
from knowledge.models import IngestionRun
from knowledge.selectors import ingestion_run_get

BUSY_RETRY_S = 30  # an import of the same tenant runs; a feed of this size takes about that long
JSONL_EXAMPLE = (
    '{"type": "category", "path": "kitchen", "name": "Kitchen"}\n'
    '{"type": "product", "handle": "aster-kettle", "category": "kitchen", "title": "Aster kettle 1.7 l"}\n'
    '{"type": "sku", "code": "ASTER-17", "product": "aster-kettle"}\n'
    '{"type": "price", "price_list": "retail-eur", "sku": "ASTER-17", "amount": "49.90"}\n'
)
RUN_EXAMPLE = {
    "id": 42, "origin": "api", "state": "applied", "dry_run": False, "created_at": "2026-01-31T02:00:00Z",
    "finished_at": "2026-01-31T02:00:04Z", "lines": 4, "rejected": 1,
    "counts": {"category": {"unchanged": 1}, "product": {"changed": 1}, "sku": {"new": 1}, "price": {"rejected": 1}},
    "problems": [{"line": 4, "type": "price", "key": "", "field": "amount",
                  "problem": "-3 is less than the minimum of 0"}],
    "problems_total": 1,
    "changes": [{"line": 2, "type": "product", "key": "aster-kettle", "action": "changed", "changes": ["title"]},
                {"line": 3, "type": "sku", "key": "ASTER-17", "action": "new", "changes": []}],
    "changes_total": 2,
}  # fmt: skip
CSV_EXAMPLE = (
    "type,code,product,price_list,sku,amount\nsku,ASTER-17,aster-kettle,,,\nprice,,,retail-eur,ASTER-17,49.90\n"
)


class FeedParser(BaseParser):
    """The feed as bytes, read no further than FEED_MAX_BYTES (a longer body is a 413)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read(FEED_MAX_BYTES + 1)
        if len(data) > FEED_MAX_BYTES:
            raise PayloadTooLarge(f"A feed sent here holds at most {FEED_MAX_BYTES // 2**20} MiB.")
        return data


class JsonLinesParser(FeedParser):
    media_type = "application/x-ndjson"


class CsvParser(FeedParser):
    media_type = "text/csv"


class ProblemSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The line in the body (CSV: counting the header); 0: not a line.")
    type = serializers.CharField()
    key = serializers.CharField()
    field = serializers.CharField()
    problem = serializers.CharField()


class ChangeSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    type = serializers.CharField()
    key = serializers.CharField()
    action = serializers.ChoiceField(choices=["new", "changed", "deleted"])
    changes = serializers.ListField(child=serializers.CharField(), help_text="The fields a changed record changes.")


class FeedRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    origin = serializers.ChoiceField(choices=IngestionRun.Origin.choices)
    state = serializers.ChoiceField(
        choices=IngestionRun.State.choices,
        help_text=(
            "applied; decided (a dry run); held (it breaks its contract or rejects too many lines: nothing is "
            "applied until an editor applies it in the admin); discarded (an editor discarded it)."
        ),
    )
    dry_run = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    lines = serializers.IntegerField(help_text="Record lines read.")
    rejected = serializers.IntegerField(help_text="Lines rejected (each in `problems`).")
    counts = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text="Per record type: new, changed, unchanged, deleted, rejected.",
    )
    problems = ProblemSerializer(many=True, help_text="The validation report: the first 1,000 problems.")
    problems_total = serializers.IntegerField()
    changes = ChangeSerializer(many=True, help_text="The writes decided, in apply order: the first 1,000.")
    changes_total = serializers.IntegerField()

    class Meta:
        ref_name = "FeedRun"


def run_data(run: IngestionRun) -> dict:
    decision = decision_of(run)
    problems, problems_total = run_problems(run)
    changes, changes_total = run_changes(run)
    return {
        "id": run.pk, "origin": run.origin, "state": run.state, "dry_run": run.dry_run, "created_at": run.created_at,
        "finished_at": run.finished_at, "lines": decision.lines, "rejected": decision.rejected, "counts": run.counts,
        "problems": problems, "problems_total": problems_total, "changes": changes, "changes_total": changes_total,
    }  # fmt: skip


class FeedInputSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(default=False, help_text="Stop after the decision: report, apply nothing.")


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=True,
    description=(
        f"A key of your choosing (at most {IDEMPOTENCY_KEY_MAX} characters) naming this feed: sent again with the "
        "same body it returns the same run and applies nothing twice; with another body it is a 409."
    ),
)  # fmt: skip
ERROR = {"$ref": COMPONENTS + "ErrorDetail"}
RUN = OpenApiExample("run", value=RUN_EXAMPLE)


class FeedRunCreateApi(WriteApiMixin, APIView):
    """Import a feed (JSON Lines or CSV with a `type` column) into the caller's tenant as one run."""

    permission_model, reads_need_write = "knowledge.ingestionrun", True
    parser_classes = [JsonLinesParser, CsvParser]

    def max_body_bytes(self, request) -> int:
        return FEED_MAX_BYTES

    @extend_schema(
        tags=["feeds"],
        summary="Import a feed",
        parameters=[IDEMPOTENCY_KEY, OpenApiParameter("dry_run", bool, description="Stop after the decision.")],
        request={
            "application/x-ndjson": OpenApiRequest(
                {"type": "string", "description": "One FeedRecord (see the components) per line."},
                examples=[OpenApiExample("jsonl", value=JSONL_EXAMPLE)],
            ),
            "text/csv": OpenApiRequest(
                {"type": "string", "description": "A header naming the fields, with a `type` column; one row each."},
                examples=[OpenApiExample("csv", value=CSV_EXAMPLE)],
            ),
        },
        responses={
            201: OpenApiResponse(FeedRunSerializer, "The run this request started (applied, decided or held).", [RUN]),
            200: OpenApiResponse(
                FeedRunSerializer, "The run of an Idempotency-Key sent before: nothing re-applied.", [RUN]
            ),
            400: OpenApiResponse({"$ref": COMPONENTS + "FieldErrors"}, "No Idempotency-Key, or an empty body."),
            403: OpenApiResponse(ERROR, "The key lacks `catalog:write`."),
            409: OpenApiResponse(ERROR, "The Idempotency-Key was used with another body, or an import runs."),
            413: OpenApiResponse(ERROR, f"The body is over {FEED_MAX_BYTES // 2**20} MiB."),
            415: OpenApiResponse(ERROR, "Not application/x-ndjson or text/csv."),
        },
    )
    def post(self, request):
        key = _idempotency_key(request)
        params = FeedInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        body = request.data
        if not isinstance(body, bytes) or not body.strip():
            raise exceptions.ValidationError({"body": ["The feed is empty: send JSON Lines or CSV records."]})
        feed_format = "csv" if request.content_type.startswith(CsvParser.media_type) else "jsonl"
        tenant = Tenant.objects.get(pk=request.caller.tenant_id)
        try:
            submitted = feed_submit(
                tenant=tenant, body=body, feed_format=feed_format, idempotency_key=key,
                dry_run=params.validated_data["dry_run"],
            )  # fmt: skip
        except IdempotencyConflict as exc:
            raise Conflict(str(exc)) from exc
        except ImportBusy as exc:
            detail = f"{exc}; send this request again once it has finished."
            return Response({"detail": detail}, status.HTTP_409_CONFLICT, headers={"Retry-After": str(BUSY_RETRY_S)})
        code = status.HTTP_201_CREATED if submitted.created else status.HTTP_200_OK
        return Response(FeedRunSerializer(run_data(submitted.run)).data, status=code)


def _idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise exceptions.ValidationError(
            {"Idempotency-Key": ["This header is required: a key naming this feed, so a retry cannot apply it twice."]}
        )
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise exceptions.ValidationError({"Idempotency-Key": [f"At most {IDEMPOTENCY_KEY_MAX} printable characters."]})
    return key


class FeedRunDetailApi(WriteApiMixin, APIView):
    """Show an import run of the caller's tenant: its state, counts, problems and changes."""

    permission_model, reads_need_write = "knowledge.ingestionrun", True

    @extend_schema(
        tags=["feeds"],
        summary="Show an import run",
        responses={
            200: OpenApiResponse(FeedRunSerializer, "The run.", [RUN]),
            403: OpenApiResponse(ERROR, "The key lacks `catalog:write`."),
            404: OpenApiResponse(ERROR, "No run of the caller's tenant with this id."),
        },
    )
    def get(self, request, run_id: int):
        run = ingestion_run_get(caller=request.caller, run_id=run_id)
        if run is None:
            raise not_found("import run", run_id)
        return Response(FeedRunSerializer(run_data(run)).data)
