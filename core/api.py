"""API building blocks every app's views share: storefront pagination, 404s, 409s, 413s and the exception handler."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100  # a storefront page; larger pages are a 400, so a client never silently gets fewer rows
KEY_SHOWN_MAX = 120  # characters of an unknown key echoed back in a 404


class StorefrontPagination(PageNumberPagination):
    """Page-number pagination whose bad `page` / `page_size` are a 400 naming the parameter."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    page_size_query_description = f"Results per page: 1 to {MAX_PAGE_SIZE}, default {PAGE_SIZE}."

    class InputSerializer(serializers.Serializer):
        page = serializers.IntegerField(min_value=1, required=False)
        page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, required=False)

    def paginate_queryset(self, queryset, request, view=None):
        self.InputSerializer(data=request.query_params).is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view)


def paginated_response(view: APIView, queryset, serializer_class) -> Response:
    """Render one page of `queryset` with `serializer_class` in the paginator's envelope."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def sees_inactive(request) -> bool:
    """Staff sessions preview inactive rows; storefront keys never see them."""
    return bool(getattr(request.user, "is_staff", False))


def not_found(kind: str, key) -> NotFound:
    return NotFound(f"No {kind} {str(key)[:KEY_SHOWN_MAX]!r}.")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the stored data."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def body_size_check(request, limit: int) -> None:
    """Refuse a body over `limit` bytes by its Content-Length, before anything reads it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("The Content-Length header is not a number.") from None
    if length > limit:
        raise PayloadTooLarge(f"The request body has {length:,} bytes; at most {limit:,} are accepted here.")


def api_exception_handler(exc, context):
    """Render Django ValidationErrors as 400s that name the field; leave the rest to DRF."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.NotFound) and "detail" in (response.data or {}):
        response.data["detail"] = str(exc.detail)
    return response
