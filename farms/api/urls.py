"""Farms API under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("farms/", views.FarmListView.as_view(), name="farm-list"),
    path("farms/queue/", views.FarmQueueView.as_view(), name="farm-queue"),
    path("farms/<int:pk>/", views.FarmDetailView.as_view(), name="farm-detail"),
    path("farms/<int:pk>/verify/", views.FarmVerifyView.as_view(), name="farm-verify"),
    path("farms/<int:pk>/suspend/", views.FarmSuspendView.as_view(), name="farm-suspend"),
    path("farms/<int:pk>/reinstate/", views.FarmReinstateView.as_view(), name="farm-reinstate"),
    path("farms/<int:pk>/resubmit/", views.FarmResubmitView.as_view(), name="farm-resubmit"),
    path("farms/<int:pk>/products/", views.FarmProductListView.as_view(), name="farm-products"),
    path("my/farm/", views.MyFarmView.as_view(), name="my-farm"),
    path("categories/", views.CategoryListView.as_view(), name="category-list"),
    path("units/", views.UnitListView.as_view(), name="unit-list"),
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path("products/<int:pk>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("products/<int:pk>/images/", views.ProductImageListView.as_view(), name="product-images"),
    path(
        "products/<int:pk>/images/order/",
        views.ProductImageOrderView.as_view(),
        name="product-images-order",
    ),
    path(
        "products/<int:pk>/images/<int:image_id>/",
        views.ProductImageDetailView.as_view(),
        name="product-image-detail",
    ),
    path("my/products/", views.MyProductListView.as_view(), name="my-products"),
    path("certifications/", views.CertificationListView.as_view(), name="certification-list"),
    path("certifications/<int:pk>/", views.CertificationDetailView.as_view(), name="certification-detail"),
    path(
        "certifications/<int:pk>/document/",
        views.CertificationDocumentView.as_view(),
        name="certification-document",
    ),
    path(
        "certifications/<int:pk>/verify/",
        views.CertificationVerifyView.as_view(),
        name="certification-verify",
    ),
    path("lots/", views.LotListView.as_view(), name="lot-list"),
    path("lots/<int:pk>/", views.LotDetailView.as_view(), name="lot-detail"),
    path("trace/<str:code>/", views.TraceView.as_view(), name="lot-trace"),
]
