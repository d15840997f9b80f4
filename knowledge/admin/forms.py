"""Admin forms for policies, documents and embedding spaces: every input error is a form error, never a 500."""

from pathlib import Path

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from catalog.admin.forms import TenantScopedForm
from knowledge.models import Document, DocumentFormat, DocumentKind, EmbeddingSpace, Policy
from knowledge.services.documents import document_text_from_upload, qa_title


class PolicyForm(TenantScopedForm):
    tenant_unique = ("slug",)

    class Meta:
        model = Policy
        fields = ("tenant", "slug", "kind", "locale", "region", "title", "body")


class DocumentForm(TenantScopedForm):
    """Reads an uploaded file as the service will, so a bad file is an error on the file field."""

    tenant_unique = ("slug",)

    class Meta:
        model = Document
        fields = (
            "tenant",
            "slug",
            "kind",
            "format",
            "locale",
            "title",
            "question",
            "body",
            "source_file",
            "product",
            "rating",
            "author",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.upload: bytes | None = None  # the new file's bytes, once they passed extraction
        self.upload_name = ""
        if "title" in self.fields:
            self.fields["title"].required = False  # a Q&A's title is derived; other kinds check it in clean()
            self.fields["title"].help_text = "Q&A: always “Answer by <author>” (the question is never indexed)."

    def clean_rating(self):
        rating = self.cleaned_data.get("rating")
        if rating is not None and not 1 <= rating <= 5:
            raise ValidationError(f"A rating is 1 to 5 stars, not {rating}.")
        return rating

    def clean(self):
        cleaned = super().clean()
        self.check_same_tenant("product")
        if not cleaned.get("title"):
            if cleaned.get("kind") == DocumentKind.QA:
                cleaned["title"] = qa_title(cleaned.get("author", ""))
            elif "title" not in self.errors:
                self.add_error("title", "This field is required.")
        upload = cleaned.get("source_file")
        fmt = cleaned.get("format") or self.instance.format
        if isinstance(upload, UploadedFile):  # a file sent with this request (not the stored one)
            self._read_upload(fmt, upload)
        elif fmt == DocumentFormat.PDF and not (upload or cleaned.get("body")) and "format" not in self.errors:
            self.add_error("source_file", "A PDF document needs its PDF file.")
        return cleaned

    def _read_upload(self, fmt: str, upload: UploadedFile) -> None:
        data = upload.read()
        upload.seek(0)
        try:
            document_text_from_upload(fmt, data)
        except ValidationError as exc:
            self.add_error(None, exc)  # the service's errors name the source_file field
            return
        self.upload, self.upload_name = data, Path(upload.name).name


class EmbeddingSpaceForm(forms.ModelForm):
    """Adding a space starts a switch: it fills in the background and serves once complete."""

    dimensions = forms.IntegerField(
        required=False, min_value=1, help_text="Leave empty to read it from the model (loads the model once)."
    )

    class Meta:
        model = EmbeddingSpace
        fields = ("name", "model_path", "version", "dimensions")

    def clean_model_path(self):
        path = self.cleaned_data.get("model_path", "").strip()
        if path and not Path(path).is_dir():
            raise ValidationError(f"There is no model folder at {path}.")
        return path

    def clean(self):
        cleaned = super().clean()
        building = EmbeddingSpace.objects.filter(state=EmbeddingSpace.State.BUILDING).first()
        if building is not None:
            raise ValidationError(f"{building} is still being filled; start another switch once it serves.")
        return cleaned
