"""Order pages: checkout, the buyer's orders, the household's orders."""

from django.urls import path, re_path

from . import views, views_ledger, webhooks
from . import views_problems as problems

app_name = "orders"

urlpatterns = [
    path("thanh-toan/", views.checkout, name="checkout"),
    path("don-hang/", views.order_list, name="list"),
    # Order numbers as `order_number_new` makes them: anything else is a plain 404.
    re_path(r"^don-hang/(?P<number>CN-[0-9]{4}-[0-9]{4,6})/$", views.order_detail, name="detail"),
    re_path(r"^don-hang/(?P<number>CN-[0-9]{4}-[0-9]{4,6})/huy/$", views.order_cancel, name="cancel"),
    re_path(r"^don-hang/(?P<number>CN-[0-9]{4}-[0-9]{4,6})/thanh-toan/$", views.order_pay, name="pay"),
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("webhooks/vietqr/", webhooks.vietqr_webhook, name="vietqr_webhook"),
    path("farmer/orders/", views.farm_order_list, name="farm_orders"),
    path("farmer/orders/<id:pk>/accept/", views.farm_order_accept, name="farm_order_accept"),
    path("farmer/orders/<id:pk>/reject/", views.farm_order_reject, name="farm_order_reject"),
    path("farmer/orders/<id:pk>/ready/", views.farm_order_ready, name="farm_order_ready"),
    # Settlement statements (#7): a household's own, and staff's view of any household's.
    path("farmer/statements/", views_ledger.statement_list, name="statements"),
    path("farmer/statements/<month:month>/", views_ledger.statement_detail, name="statement"),
    path("staff/statements/<id:farm_id>/", views_ledger.staff_statement_list, name="staff_statements"),
    path(
        "staff/statements/<id:farm_id>/<month:month>/",
        views_ledger.staff_statement_detail,
        name="staff_statement",
    ),
    # Problems after delivery (#7): the buyer reports on the order page, the household answers.
    re_path(
        r"^don-hang/(?P<number>CN-[0-9]{4}-[0-9]{4,6})/su-co/$",
        problems.problem_report,
        name="problem_report",
    ),
    path("farmer/problems/", problems.farm_problems, name="farm_problems"),
    path("farmer/problems/<id:pk>/resolve/", problems.farm_problem_resolve, name="farm_problem_resolve"),
    path("farmer/problems/<id:pk>/decline/", problems.farm_problem_decline, name="farm_problem_decline"),
]
