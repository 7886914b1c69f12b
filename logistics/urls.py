from django.urls import path

from . import views

app_name = "logistics"

urlpatterns = [
    path("courier/runs/<id:pk>/", views.run_detail, name="run"),
    path("courier/runs/<id:pk>/print/", views.run_print, name="run_print"),
    path("courier/runs/<id:pk>/claim/", views.run_claim_page, name="run_claim"),
    path("courier/shipments/<id:pk>/step/", views.shipment_step_page, name="shipment_step"),
]
