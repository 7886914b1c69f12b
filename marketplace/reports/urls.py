from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("official/stats/", views.dashboard, name="dashboard"),
]
