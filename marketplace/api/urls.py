"""Everything under /api/v1/."""
from django.urls import include, path

urlpatterns = [
    path("", include("marketplace.accounts.api.urls")),
    path("", include("marketplace.geo.urls")),
    path("", include("marketplace.notifications.api.urls")),
    path("", include("farms.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("logistics.api.urls")),
]
