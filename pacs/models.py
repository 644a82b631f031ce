"""PACS nodes, queries, retrieves and the series index.

Files themselves are ordinary file-registry rows (uploads.ChrisFile) under ``SERVICES/PACS/<node>/``; a
series' DICOM metadata lives once on its PACSSeries row, whose folder holds the instances, so searching
files by DICOM attributes is a join through the folder, never a copy per file.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from uploads.models import AsyncDeletable, ChrisFolder


class RetrieveMethod(models.TextChoices):
    MOVE = "move"  # the PACS pushes to our storage SCP (it must know our AE title)
    GET = "get"  # we pull over our own association (no configuration on the PACS beyond our calling AE)


class PACS(models.Model):
    """A remote DICOM node we query and retrieve from."""

    identifier = models.CharField(max_length=100, unique=True)
    aet = models.CharField(max_length=16)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField()
    retrieve_method = models.CharField(max_length=4, choices=RetrieveMethod.choices, default=RetrieveMethod.MOVE)
    # The AE title we call it with; blank = settings.CUBE_DICOM_AET (the listener's, which C-MOVE names).
    calling_aet = models.CharField(max_length=16, blank=True, default="")
    active = models.BooleanField(default=True, db_index=True)
    description = models.CharField(max_length=400, blank=True, default="")
    folder = models.OneToOneField(ChrisFolder, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="pacs")
    creation_date = models.DateTimeField(auto_now_add=True)
    modification_date = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        verbose_name = "PACS"
        verbose_name_plural = "PACS"

    def __str__(self) -> str:
        return self.identifier


class Status(models.TextChoices):
    CREATED = "created"
    SENT = "sent"
    SUCCEEDED = "succeeded"
    ERRORED = "errored"


FINISHED = (Status.SUCCEEDED, Status.ERRORED)


class PACSQuery(models.Model):
    title = models.CharField(max_length=300)
    query = models.JSONField()
    description = models.TextField(blank=True, default="")
    execute = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED, db_index=True)
    status_message = models.TextField(blank=True, default="")  # why it errored, in words
    # CUBE's encoding (base64 of zlib of pypx-shaped JSON), what the ChRIS UI decodes.
    result = models.TextField(blank=True, default="")
    # The same studies and series as plain JSON, for people and scripts.
    result_json = models.JSONField(null=True, blank=True)
    pacs = models.ForeignKey(PACS, on_delete=models.CASCADE, related_name="queries")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pacs_queries")
    creation_date = models.DateTimeField(auto_now_add=True, db_index=True)
    end_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        constraints = [models.UniqueConstraint(fields=("pacs", "owner", "title"), name="pacsquery_unique_title")]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"


class PACSRetrieve(models.Model):
    pacs_query = models.ForeignKey(PACSQuery, on_delete=models.CASCADE, related_name="retrieves")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pacs_retrieves")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED, db_index=True)
    status_message = models.TextField(blank=True, default="")
    expected = models.IntegerField(default=0)  # instances the query said the series hold
    received = models.IntegerField(default=0)  # instances of those series registered so far
    # Per series: StudyInstanceUID, SeriesInstanceUID, expected, received, status, message.
    series = models.JSONField(default=list, blank=True)
    creation_date = models.DateTimeField(auto_now_add=True, db_index=True)
    start_date = models.DateTimeField(null=True, blank=True)
    end_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return f"retrieve {self.pk} of query {self.pacs_query_id} ({self.status})"


class PACSSeries(AsyncDeletable):
    """One registered series: the indexed DICOM attributes, its folder of instances, how many it holds."""

    PatientID = models.CharField(max_length=100, db_index=True)
    PatientName = models.CharField(max_length=150, blank=True, default="")
    PatientBirthDate = models.DateField(null=True, blank=True)
    PatientAge = models.IntegerField(null=True, blank=True)  # in days, as CUBE
    PatientSex = models.CharField(max_length=1, blank=True, default="")
    StudyDate = models.DateField(null=True, blank=True, db_index=True)
    AccessionNumber = models.CharField(max_length=100, blank=True, default="", db_index=True)
    Modality = models.CharField(max_length=16, blank=True, default="", db_index=True)
    ProtocolName = models.CharField(max_length=64, blank=True, default="")
    StudyInstanceUID = models.CharField(max_length=100, db_index=True)
    StudyDescription = models.CharField(max_length=400, blank=True, default="")
    SeriesInstanceUID = models.CharField(max_length=100, db_index=True)
    SeriesDescription = models.CharField(max_length=400, blank=True, default="")
    SeriesNumber = models.IntegerField(null=True, blank=True)
    ndicom = models.IntegerField(default=0)  # registered instances
    folder = models.OneToOneField(ChrisFolder, on_delete=models.CASCADE, related_name="pacs_series")
    pacs = models.ForeignKey(PACS, on_delete=models.CASCADE, related_name="series")
    creation_date = models.DateTimeField(auto_now_add=True, db_index=True)
    modification_date = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-id",)
        verbose_name_plural = "PACS series"
        constraints = [models.UniqueConstraint(fields=("pacs", "SeriesInstanceUID"), name="pacsseries_unique_uid")]

    def __str__(self) -> str:
        return f"{self.PatientID} {self.SeriesDescription or self.SeriesInstanceUID}"
