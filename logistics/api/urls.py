"""Couriers' runs and shipments under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("runs/", views.RunListView.as_view(), name="runs"),
    path("runs/<id:pk>/", views.RunDetailView.as_view(), name="run"),
    path("runs/<id:pk>/claim/", views.RunClaimView.as_view(), name="run-claim"),
    path("shipments/<id:pk>/", views.ShipmentDetailView.as_view(), name="shipment"),
    path("shipments/<id:pk>/events/", views.ShipmentEventView.as_view(), name="shipment-events"),
]
