"""Cart, checkout and orders API under /api/v1/."""

from django.urls import path

from . import ledger, problems, views

urlpatterns = [
    path("cart/", views.CartView.as_view(), name="cart"),
    path("cart/items/", views.CartItemListView.as_view(), name="cart-items"),
    path("cart/items/<id:pk>/", views.CartItemDetailView.as_view(), name="cart-item"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("orders/", views.OrderListView.as_view(), name="orders"),
    path("orders/<id:pk>/", views.OrderDetailView.as_view(), name="order"),
    path("orders/<id:pk>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<id:pk>/pay/", views.OrderPayView.as_view(), name="order-pay"),
    path("farm-orders/", views.HouseholdOrderListView.as_view(), name="farm-orders"),
    path("farm-orders/<id:pk>/", views.HouseholdOrderDetailView.as_view(), name="farm-order"),
    path("farm-orders/<id:pk>/accept/", views.HouseholdOrderAcceptView.as_view(), name="farm-order-accept"),
    path("farm-orders/<id:pk>/ready/", views.HouseholdOrderReadyView.as_view(), name="farm-order-ready"),
    path("farm-orders/<id:pk>/reject/", views.HouseholdOrderRejectView.as_view(), name="farm-order-reject"),
    path("orders/<id:pk>/problems/", problems.OrderProblemListView.as_view(), name="order-problems"),
    path("problems/", problems.ProblemListView.as_view(), name="problems"),
    path("problems/<id:pk>/", problems.ProblemDetailView.as_view(), name="problem"),
    path("problems/<id:pk>/photo/", problems.ProblemPhotoView.as_view(), name="problem-photo"),
    path("problems/<id:pk>/resolve/", problems.ProblemResolveView.as_view(), name="problem-resolve"),
    path("problems/<id:pk>/decline/", problems.ProblemDeclineView.as_view(), name="problem-decline"),
    path("ledger/", ledger.LedgerView.as_view(), name="ledger"),
    path("payouts/", ledger.PayoutView.as_view(), name="payouts"),
]
