"""Reads of problems reported after delivery (issue #7): each takes the user, so nobody sees
another's reports. A buyer sees the problems of their own orders, a household those on its parts,
staff every one. Joins are chosen here, so a list costs the same few queries at any length.
"""

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from .models import Problem, ProblemStatus
from .services.problems import is_staff


def _problems() -> QuerySet[Problem]:
    return Problem.objects.select_related("farm_order__order", "farm_order__farm", "line")


def problems_visible_to(*, user) -> QuerySet[Problem]:
    """Return the problems `user` may see, newest first."""
    if not (user and user.is_authenticated):
        return Problem.objects.none()
    if is_staff(user):
        return _problems().order_by("-created_at", "-id")
    return (
        _problems()
        .filter(Q(farm_order__order__buyer=user) | Q(farm_order__farm__owner=user))
        .order_by("-created_at", "-id")
    )


def problems_answerable_by(*, user) -> QuerySet[Problem]:
    """Return the problems `user` may answer: on their household's parts (staff: all)."""
    if not (user and user.is_authenticated):
        return Problem.objects.none()
    if is_staff(user):
        return _problems()
    return _problems().filter(farm_order__farm__owner=user)


def problems_of_household(*, user) -> QuerySet[Problem]:
    """Return the reports on the household's parts: those waiting for an answer first, then newest."""
    waiting_first = Case(
        When(status=ProblemStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return (
        _problems()
        .filter(farm_order__farm__owner=user)
        .annotate(waiting_first=waiting_first)
        .order_by("waiting_first", "-created_at", "-id")
    )
