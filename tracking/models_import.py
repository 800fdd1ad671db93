"""CSV imports of offline conversions: the uploaded file (through the storage API), the job's progress and the
rows it could not record."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from network.models import Advertiser, Membership, TenantModel

# The first rows' errors are kept (row number and field errors); the count goes on beyond.
IMPORT_ERRORS_KEPT = 1000


class ConversionImport(TenantModel):
    """One uploaded CSV of conversions and its processing (a Celery task, resumable from `processed`)."""

    party_fields = {"advertiser": "advertiser"}

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    advertiser = models.ForeignKey(Advertiser, on_delete=models.CASCADE, related_name="conversion_imports")
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    # Data rows in the file (the header excluded), counted when it was accepted.
    total = models.PositiveIntegerField(default=0)
    # Rows handled so far (recorded, repeated or refused): a rerun of the task resumes after them.
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # [{"row": <line number in the file, the header is 1>, "errors": {field: [message, ...]}}], the first ones.
    errors = models.JSONField(default=list, blank=True)
    detail = models.TextField(blank=True, default="")  # why the job failed, when it did
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["network", "advertiser", "created_at"], name="tracking_import_recent")]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.processed * 100 // self.total)
