"""Cart, checkout and orders API under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("cart/", views.CartView.as_view(), name="cart"),
    path("cart/items/", views.CartItemListView.as_view(), name="cart-items"),
    path("cart/items/<int:pk>/", views.CartItemDetailView.as_view(), name="cart-item"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("orders/", views.OrderListView.as_view(), name="orders"),
    path("orders/<int:pk>/", views.OrderDetailView.as_view(), name="order"),
    path("orders/<int:pk>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<int:pk>/pay/", views.OrderPayView.as_view(), name="order-pay"),
    path("farm-orders/", views.HouseholdOrderListView.as_view(), name="farm-orders"),
    path("farm-orders/<int:pk>/", views.HouseholdOrderDetailView.as_view(), name="farm-order"),
    path("farm-orders/<int:pk>/accept/", views.HouseholdOrderAcceptView.as_view(), name="farm-order-accept"),
    path("farm-orders/<int:pk>/ready/", views.HouseholdOrderReadyView.as_view(), name="farm-order-ready"),
    path("farm-orders/<int:pk>/reject/", views.HouseholdOrderRejectView.as_view(), name="farm-order-reject"),
]
