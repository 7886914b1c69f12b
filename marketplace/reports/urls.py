from django.urls import path

from . import views, views_exports

app_name = "reports"

urlpatterns = [
    path("official/stats/", views.dashboard, name="dashboard"),
    path("official/stats/export/", views_exports.export, name="export"),
    path("official/stats/exports/<id:pk>/", views_exports.export_job, name="export_job"),
    path("official/stats/subscription/", views_exports.subscription, name="subscription"),
]
