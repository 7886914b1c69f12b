from django.urls import path

from .api.views import WardListView

urlpatterns = [
    path("wards/", WardListView.as_view(), name="ward-list"),
]
