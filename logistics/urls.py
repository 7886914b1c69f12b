from django.urls import path

from . import views

app_name = "logistics"

urlpatterns = [
    path("courier/runs/<int:pk>/", views.run_detail, name="run"),
    path("courier/runs/<int:pk>/print/", views.run_print, name="run_print"),
    path("courier/runs/<int:pk>/claim/", views.run_claim_page, name="run_claim"),
    path("courier/shipments/<int:pk>/step/", views.shipment_step_page, name="shipment_step"),
]
