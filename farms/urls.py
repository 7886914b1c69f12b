"""Pages of farms: the farmer's dashboard and forms, officials' verification, trace pages."""

from django.urls import path

from .views import farmer, official, records, trace

app_name = "farms"

urlpatterns = [
    # The farmer (household, listings, photos, certificates, lots).
    path("farmer/", farmer.dashboard, name="dashboard"),
    path("farmer/household/", farmer.farm_edit, name="farm_edit"),
    path("farmer/household/resubmit/", farmer.farm_resubmit, name="farm_resubmit"),
    path("farmer/listings/new/", farmer.product_create, name="product_create"),
    path("farmer/listings/<id:pk>/", farmer.product_edit, name="product_edit"),
    path("farmer/listings/<id:pk>/quick/", farmer.product_quick_edit, name="product_quick_edit"),
    path("farmer/listings/<id:pk>/status/", farmer.product_status, name="product_status"),
    path("farmer/listings/<id:pk>/archive/", farmer.product_archive, name="product_archive"),
    path("farmer/listings/<id:pk>/photos/", farmer.product_photos, name="product_photos"),
    path("farmer/listings/<id:pk>/photos/<id:image_pk>/delete/", farmer.photo_delete, name="photo_delete"),
    path("farmer/listings/<id:pk>/photos/<id:image_pk>/move/", farmer.photo_move, name="photo_move"),
    path("farmer/certifications/", records.certification_list, name="certifications"),
    path("farmer/certifications/new/", records.certification_create, name="certification_create"),
    path("farmer/certifications/<id:pk>/delete/", records.certification_delete, name="certification_delete"),
    path(
        "farmer/certifications/<id:pk>/document/",
        records.certification_document,
        name="certification_document",
    ),
    path("farmer/lots/", records.lot_list, name="lots"),
    path("farmer/lots/new/", records.lot_create, name="lot_create"),
    path("farmer/lots/<id:pk>/", records.lot_edit, name="lot_edit"),
    path("farmer/lots/<id:pk>/label/", records.lot_label, name="lot_label"),
    # Officials (households and certificates in their scope).
    path("official/households/", official.farm_queue, name="official_farms"),
    path("official/households/<id:pk>/", official.farm_detail, name="official_farm"),
    path("official/households/<id:pk>/<slug:action>/", official.farm_decide, name="official_farm_decide"),
    path("official/certifications/", official.certification_queue, name="official_certifications"),
    path(
        "official/certifications/<id:pk>/document/",
        records.certification_document,
        name="official_certification_document",
    ),
    path(
        "official/certifications/<id:pk>/<slug:decision>/",
        official.certification_decide,
        name="official_certification_decide",
    ),
    # Public trace pages.
    path("t/<str:code>", trace.trace, name="trace"),
    path("t/<str:code>/qr.<slug:fmt>", trace.trace_qr, name="trace_qr"),
]
