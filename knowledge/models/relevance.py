"""Trained relevance models (cross-encoders): one row per trained version, at most one active."""

from django.db import models
from django.db.models import Q


class RelevanceModel(models.Model):
    """A cross-encoder trained by `train_reranker`: its files, the data it saw, its calibrated threshold.

    `split` names, per dataset, the product (or query) ids used to train, to calibrate the threshold and to
    report the metrics: a dataset absent from it was never seen by the model. Rows are written by the
    training command or `relevance_model register`; only activation changes them afterwards.
    """

    name = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    path = models.CharField(
        max_length=500, help_text="Model folder (absolute or relative to BASE_DIR): model-int8.onnx, meta.json."
    )
    datasets = models.JSONField(default=list, blank=True)
    split = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    threshold = models.FloatField(help_text="Calibrated probability: relevance at or above it answers.")
    locales = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="relevance_model_name_version"),
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_relevance"),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """How answers name the model: `pqa@v1`."""
        return f"{self.name}@v{self.version}"
