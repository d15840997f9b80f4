"""What every write view of /api/v1 shares: the scope and permission check, body limits, and one write call.

A write view takes a feed record (JSON, or form fields and a file for documents) and hands it to
`knowledge.ingestion.single.record_write`, the importer's own checks and writers; the view only maps the
outcome to HTTP. Keys need `catalog:write`; staff sessions need the model's Django permission.
"""

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rest_framework import exceptions, serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from catalog.models import Tenant
from core.api import Conflict, PayloadTooLarge, body_size_check
from core.scopes import Scope
from knowledge.ingestion.formats import MAX_LINE_BYTES, Problem, coerce_cells
from knowledge.ingestion.single import Mode, RecordConflict, RecordNotFound, RecordRejected, record_write
from knowledge.services.documents import UPLOAD_MAX_BYTES

FORM_MARGIN_BYTES = 2**20  # a multipart body is the file plus its form fields and part headers
DJANGO_ACTIONS = {"POST": ("add",), "PUT": ("change",), "PATCH": ("change",), "DELETE": ("delete",), "GET": ("view",)}


class CatalogWrite(BasePermission):
    """A write needs the API key's `catalog:write`; a staff session needs the model's add/change/delete permission."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS and not view.reads_need_write:
            return True
        caller = request.caller  # set by the default permission, which runs first
        missing = caller.scope_missing((Scope.CATALOG_WRITE,))
        if missing:
            raise exceptions.PermissionDenied(f"This API key lacks the scope {missing!r}.")
        if caller.scopes is None:  # a staff session: Django permissions decide, as in the admin
            for permission in view.django_permissions(request.method):
                if not request.user.has_perm(permission):
                    raise exceptions.PermissionDenied(f"Your account lacks the permission {permission!r}.")
        return True


class WriteResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    changes = serializers.ListField(child=serializers.CharField())
    version = serializers.IntegerField(allow_null=True)
    record = serializers.JSONField()


def problems_detail(problems: list[Problem]) -> dict[str, list[str]]:
    """Problems as DRF's 400 body: {field: [messages]}, unnamed ones under non_field_errors."""
    detail: dict[str, list[str]] = {}
    for problem in problems:
        detail.setdefault(problem.field or "non_field_errors", []).append(problem.problem)
    return detail


class WriteApiMixin:
    """Write methods over a view: set `record_type`, `permission_model` ("catalog.product") and `url_keys`.

    `url_keys` maps the URL's keyword arguments to the record's key fields (`{"code": "sku"}` for a price).
    """

    record_type = ""
    permission_model = ""
    url_keys: dict[str, str] = {}
    put_mode = Mode.REPLACE
    reads_need_write = False
    parser_classes = [JSONParser]

    @property
    def required_scopes(self) -> tuple[str, ...]:
        """What the default permission asks of a key: reads need catalog:read, writes catalog:write."""
        reading = self.request.method in SAFE_METHODS and not self.reads_need_write
        return (Scope.CATALOG_READ,) if reading else (Scope.CATALOG_WRITE,)

    def get_permissions(self):
        return [*super().get_permissions(), CatalogWrite()]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in SAFE_METHODS:
            body_size_check(request, self.max_body_bytes(request))

    def max_body_bytes(self, request) -> int:
        return MAX_LINE_BYTES  # a record sent alone is held to a feed line's limit

    def django_permissions(self, method: str) -> list[str]:
        app, model = self.permission_model.split(".")
        actions = DJANGO_ACTIONS.get(method, ())
        if method == "PUT" and self.put_mode == Mode.SET:
            actions = ("add", "change")  # a PUT of a price or stock level may create it
        return [f"{app}.{action}_{model}" for action in actions]

    def record_fields(self, request) -> dict:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": [f"A record is a JSON object, not {type(request.data).__name__}."]}
            )
        return dict(request.data)

    def write(self, request, mode: Mode, url_kwargs: dict | None = None) -> Response:
        """Write the request's record; answer 201 (created), 200 (changed or unchanged) or 204 (deleted)."""
        key = {self.url_keys[name]: value for name, value in (url_kwargs or {}).items()} or None
        fields = {} if mode == Mode.DELETE else self.record_fields(request)
        with self.uploaded(request) as (file_name, directory):
            if file_name is not None:
                fields["file"] = file_name
            written = self._record_write(request, mode, key, fields, directory)
        if written.action == "deleted":
            return Response(status=status.HTTP_204_NO_CONTENT)
        code = status.HTTP_201_CREATED if written.action == "new" else status.HTTP_200_OK
        return Response(WriteResultSerializer(written).data, status=code)

    def _record_write(self, request, mode, key, fields, directory):
        tenant = Tenant.objects.get(pk=request.caller.tenant_id)
        try:
            return record_write(
                tenant=tenant, record_type=self.record_type, mode=mode, fields=fields, key=key, directory=directory
            )
        except RecordRejected as exc:
            raise exceptions.ValidationError(problems_detail(exc.problems)) from exc
        except RecordNotFound as exc:
            raise exceptions.NotFound(str(exc)) from exc
        except RecordConflict as exc:
            raise Conflict(str(exc)) from exc

    @contextmanager
    def uploaded(self, request) -> Iterator[tuple[str | None, Path | None]]:
        """No file: JSON-only records (documents override this)."""
        yield None, None


class CreateMixin(WriteApiMixin):
    def post(self, request, **kwargs):
        return self.write(request, Mode.CREATE)


class EditMixin(WriteApiMixin):
    def put(self, request, **kwargs):
        return self.write(request, self.put_mode, kwargs)

    def patch(self, request, **kwargs):
        return self.write(request, Mode.MERGE, kwargs)

    def delete(self, request, **kwargs):
        return self.write(request, Mode.DELETE, kwargs)


class UploadMixin:
    """Documents: a JSON record, or multipart form fields (typed as CSV cells are) with the file in `file`."""

    parser_classes = [JSONParser, MultiPartParser]

    def max_body_bytes(self, request) -> int:
        if request.content_type.startswith("multipart/"):
            return UPLOAD_MAX_BYTES + FORM_MARGIN_BYTES
        return MAX_LINE_BYTES

    def record_fields(self, request) -> dict:
        if not request.content_type.startswith("multipart/"):
            return super().record_fields(request)
        cells = {name: value for name, value in request.data.items() if name not in request.FILES and value != ""}
        record, problems = coerce_cells(self.record_type, cells)
        if problems:
            raise exceptions.ValidationError(problems_detail(problems))
        return record

    @contextmanager
    def uploaded(self, request) -> Iterator[tuple[str | None, Path | None]]:
        """Keep the `file` part in a folder of its own for the write: the importer reads files beside a feed."""
        upload = request.FILES.get("file") if request.content_type.startswith("multipart/") else None
        if upload is None:
            yield None, None
            return
        if upload.size > UPLOAD_MAX_BYTES:
            raise PayloadTooLarge(f"The file has {upload.size:,} bytes; at most {UPLOAD_MAX_BYTES:,} are accepted.")
        with tempfile.TemporaryDirectory(prefix="upload-") as directory:
            name = Path(upload.name or "").name or "upload"
            with open(Path(directory) / name, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            yield name, Path(directory)
