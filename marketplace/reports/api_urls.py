"""Officials' stats API under /api/v1/stats/ (issue #8)."""

from django.urls import path

from . import api_operations

urlpatterns = [
    path("stats/fulfilment/", api_operations.FulfilmentStatsView.as_view(), name="stats-fulfilment"),
    path("stats/registrations/", api_operations.RegistrationStatsView.as_view(), name="stats-registrations"),
]
