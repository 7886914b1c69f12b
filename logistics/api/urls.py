"""Couriers' runs and shipments under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("runs/", views.RunListView.as_view(), name="runs"),
    path("runs/<int:pk>/", views.RunDetailView.as_view(), name="run"),
    path("runs/<int:pk>/claim/", views.RunClaimView.as_view(), name="run-claim"),
    path("shipments/<int:pk>/", views.ShipmentDetailView.as_view(), name="shipment"),
    path("shipments/<int:pk>/events/", views.ShipmentEventView.as_view(), name="shipment-events"),
]
