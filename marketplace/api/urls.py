"""Everything under /api/v1/."""
from django.urls import include, path

from marketplace.reports import api_sales as reports_sales

urlpatterns = [
    path("", include("marketplace.accounts.api.urls")),
    path("", include("marketplace.geo.urls")),
    path("", include("marketplace.notifications.api.urls")),
    path("", include("farms.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("logistics.api.urls")),
    path("stats/sales/", reports_sales.SalesStatsView.as_view(), name="stats-sales"),
    path("stats/prices/", reports_sales.PriceStatsView.as_view(), name="stats-prices"),
    path("stats/export/", reports_sales.StatsExportView.as_view(), name="stats-export"),
    path("stats/exports/<id:pk>/", reports_sales.StatsExportJobView.as_view(), name="stats-export-job"),
    path(
        "stats/exports/<id:pk>/file/", reports_sales.StatsExportFileView.as_view(), name="stats-export-file"
    ),
    path("", include("marketplace.reports.api_urls")),
]
