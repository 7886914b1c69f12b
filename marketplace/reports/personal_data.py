"""Reports' entries in the personal data registry (`marketplace.accounts.personal_data`)."""

from django.urls import reverse

from marketplace.accounts.personal_data import Kind, blank, personal_data_exempt, personal_data_register

from .models import ExportJob, ReportSubscription


def register() -> None:
    # An official's exports are theirs alone (private files); they go with the account.
    personal_data_register(
        ExportJob,
        owner="user",
        fields=[blank("file", Kind.FILE)],
        context=("kind", "file_format", "params", "status", "created_at"),
        delete_rows=True,
        file_url=lambda job, _name: reverse("stats-export-file", args=[job.pk]),
    )
    personal_data_exempt(
        ExportJob,
        {
            "params": "the filters of an export (dates, wards, grouping)",
            "error": "why building an export failed, for staff",
        },
    )
    personal_data_register(
        ReportSubscription, owner="user", fields=[], context=("last_sent_month",), delete_rows=True
    )
