"""Thin Celery entry points of logistics."""

from celery import shared_task


@shared_task(name="logistics.build_collection_runs", acks_late=True, reject_on_worker_lost=True)
def build_collection_runs(day: str | None = None) -> list[int]:
    """Build the day's collection runs (at the cut-off hour); safe to run twice."""
    from datetime import date

    from .runs import runs_build

    return [run.pk for run in runs_build(day=date.fromisoformat(day) if day else None)]
