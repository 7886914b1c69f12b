"""Pages of farms: the farmer's dashboard and forms, officials' verification, trace pages."""

from django.urls import path

from . import views

app_name = "farms"

urlpatterns = [
    path("farmer/", views.dashboard, name="dashboard"),
]
