"""Farms API under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("farms/", views.FarmListView.as_view(), name="farm-list"),
    path("farms/queue/", views.FarmQueueView.as_view(), name="farm-queue"),
    path("farms/<id:pk>/", views.FarmDetailView.as_view(), name="farm-detail"),
    path("farms/<id:pk>/verify/", views.FarmVerifyView.as_view(), name="farm-verify"),
    path("farms/<id:pk>/suspend/", views.FarmSuspendView.as_view(), name="farm-suspend"),
    path("farms/<id:pk>/reinstate/", views.FarmReinstateView.as_view(), name="farm-reinstate"),
    path("farms/<id:pk>/resubmit/", views.FarmResubmitView.as_view(), name="farm-resubmit"),
    path("farms/<id:pk>/products/", views.FarmProductListView.as_view(), name="farm-products"),
    path("my/farm/", views.MyFarmView.as_view(), name="my-farm"),
    path("categories/", views.CategoryListView.as_view(), name="category-list"),
    path("units/", views.UnitListView.as_view(), name="unit-list"),
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path("products/<id:pk>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("products/<id:pk>/images/", views.ProductImageListView.as_view(), name="product-images"),
    path(
        "products/<id:pk>/images/order/",
        views.ProductImageOrderView.as_view(),
        name="product-images-order",
    ),
    path(
        "products/<id:pk>/images/<id:image_id>/",
        views.ProductImageDetailView.as_view(),
        name="product-image-detail",
    ),
    path("my/products/", views.MyProductListView.as_view(), name="my-products"),
    path("certifications/", views.CertificationListView.as_view(), name="certification-list"),
    path("certifications/<id:pk>/", views.CertificationDetailView.as_view(), name="certification-detail"),
    path(
        "certifications/<id:pk>/document/",
        views.CertificationDocumentView.as_view(),
        name="certification-document",
    ),
    path(
        "certifications/<id:pk>/verify/",
        views.CertificationVerifyView.as_view(),
        name="certification-verify",
    ),
    path("lots/", views.LotListView.as_view(), name="lot-list"),
    path("lots/<id:pk>/", views.LotDetailView.as_view(), name="lot-detail"),
    path("trace/<str:code>/", views.TraceView.as_view(), name="lot-trace"),
]
