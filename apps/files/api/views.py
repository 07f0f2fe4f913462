"""Thin REST views for files: upload, describe, download."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import request_user
from apps.accounts.models import User
from apps.common.api import TOKEN_ERRORS, error_responses
from apps.common.errors import Code, DomainError
from apps.files import describe, limits, selectors, services
from apps.files.models import FileKind, StoredFile
from apps.files.storage import files_storage


class FileOutput(serializers.Serializer):
    file_id = serializers.CharField()
    url = serializers.CharField(help_text="download URL (Authorization: Bearer; uploader and conversation members)")
    signed_url = serializers.CharField(help_text="the same, signed for you; works without a header until it expires")
    name = serializers.CharField(help_text="sanitised file name")
    size = serializers.IntegerField()
    content_type = serializers.CharField(help_text="MIME type sniffed from the bytes")
    kind = serializers.ChoiceField(choices=FileKind.choices)
    width = serializers.IntegerField(required=False, help_text="pictures")
    height = serializers.IntegerField(required=False, help_text="pictures")
    thumbnail_url = serializers.CharField(required=False, help_text="pictures")


def _render(f: StoredFile, user_id: str) -> dict[str, Any]:
    return {**describe.file_describe(f), "signed_url": selectors.file_signed_link(file_id=f.file_id, user_id=user_id)}


class FilesApi(APIView):
    parser_classes = [MultiPartParser]

    class Input(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=False)
        kind = serializers.ChoiceField(choices=FileKind.choices, required=False)

    @extend_schema(
        tags=["files"],
        summary="Upload a file (multipart field `file`; optional `kind`: picture, voice, video, file)",
        description=(
            "The type is sniffed from the bytes (the client's claim is ignored) and must be in "
            "IM_UPLOAD_ALLOWED_TYPES and match `kind`; pictures get width, height and a thumbnail. "
            "Larger than IM_UPLOAD_MAX_BYTES: 413 with code 1701, before the body is read. "
            "Send the `file_id` in a 102-105 message's content to share it."
        ),
        request={"multipart/form-data": Input},
        responses={201: FileOutput, **error_responses(Code.BAD_ARGS, Code.FILE_TOO_LARGE, *TOKEN_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limits.body_limit():
            raise limits.too_large()
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        f = services.file_upload(
            owner_id=request_user(request).user_id,
            fh=upload.file,
            size=upload.size,
            client_name=upload.name,
            kind=data.validated_data.get("kind"),
        )
        return Response(_render(f, request_user(request).user_id), status=201)


class FileDetailApi(APIView):
    @extend_schema(
        tags=["files"],
        summary="Describe a file you may read (uploader, or member of a conversation that holds it)",
        responses={200: FileOutput, **error_responses(Code.NOT_FOUND, *TOKEN_ERRORS)},
    )
    def get(self, request: Request, file_id: str) -> Response:
        f = selectors.file_for_user(file_id=file_id, user_id=request_user(request).user_id)
        return Response(_render(f, request_user(request).user_id))


class FileContentApi(APIView):
    permission_classes = [AllowAny]
    thumbnail = False

    @extend_schema(
        tags=["files"],
        summary="Download a file (or its thumbnail): Authorization: Bearer, or a signed `sig` link",
        parameters=[OpenApiParameter("sig", str, required=False, description="from signed_url")],
        responses={
            (200, "application/octet-stream"): inline_serializer("FileBytes", {}),
            **error_responses(Code.NOT_FOUND, Code.NO_PERMISSION, Code.NOT_AUTHENTICATED, *TOKEN_ERRORS),
        },
    )
    def get(self, request: Request, file_id: str) -> FileResponse:
        sig = request.query_params.get("sig")
        if sig:
            f = selectors.file_for_signature(file_id=file_id, sig=sig)
        elif not isinstance(request.user, User):
            raise DomainError(Code.NOT_AUTHENTICATED, "send Authorization: Bearer <token> or use a signed link")
        else:
            f = selectors.file_for_user(file_id=file_id, user_id=request_user(request).user_id)
        key = f.thumbnail_key if self.thumbnail else f.storage_key
        if not key:
            raise DomainError(Code.NOT_FOUND, f"file {file_id} has no thumbnail")
        try:
            fh = files_storage().open(key, "rb")
        except FileNotFoundError as exc:
            raise DomainError(Code.NOT_FOUND, f"file {file_id} is gone") from exc
        if self.thumbnail:
            mime = "image/png" if fh.read(4) == b"\x89PNG" else "image/jpeg"
            fh.seek(0)
            response = FileResponse(fh, content_type=mime)
        else:
            inline = f.kind == FileKind.PICTURE
            response = FileResponse(fh, content_type=f.content_type, as_attachment=not inline, filename=f.name)
        response["Cache-Control"] = "private, max-age=3600"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class FileThumbnailApi(FileContentApi):
    thumbnail = True

    @extend_schema(
        tags=["files"],
        operation_id="file_thumbnail_get",
        summary="Download a picture's thumbnail (same access as the picture)",
        parameters=[OpenApiParameter("sig", str, required=False, description="from a signed link")],
        responses={
            (200, "image/jpeg"): inline_serializer("ThumbnailBytes", {}),
            **error_responses(Code.NOT_FOUND, Code.NO_PERMISSION, Code.NOT_AUTHENTICATED, *TOKEN_ERRORS),
        },
    )
    def get(self, request: Request, file_id: str) -> FileResponse:
        return super().get(request, file_id)
