"""Storefront pages, on Vietnamese paths. The site home (`/`, "home") is wired in marketplace/urls.py."""

from django.urls import path

from . import views

app_name = "storefront"

urlpatterns = [
    path("danh-muc/<slug:slug>/", views.category, name="category"),
    path("tim-kiem/", views.search, name="search"),
    path("san-pham/<id:pk>/", views.product, name="product"),
    path("nong-ho/<id:pk>/", views.farm, name="farm"),
    path("gio-hang/", views.cart, name="cart"),
    path("gio-hang/<id:pk>/", views.cart_line_update, name="cart_line_update"),
    path("gio-hang/<id:pk>/xoa/", views.cart_line_delete, name="cart_line_delete"),
]
