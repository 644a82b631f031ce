from __future__ import annotations

import uuid

from django.db import models


class ChrisInstance(models.Model):
    """The singleton describing this installation (always id 1)."""

    name = models.CharField(max_length=100)
    uuid = models.UUIDField(default=uuid.uuid4, editable=False)
    job_id_prefix = models.CharField(max_length=100, default="chris-jid-")
    description = models.CharField(max_length=300, blank=True, default="")
    creation_date = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name
