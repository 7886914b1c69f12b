"""Seed the load test's database and write the credentials the locustfile reads.

Runs in the orchestrator's process after `django.setup()` (see `bench.load.run`):

1. the catalogue of `bench.seed` (households, listings, photos, certificates, lots);
2. a year of order history for the officials' dashboard (`bench.stats.Orders`, `COPY`), bought
   by buyers of their own, and the sales rollups rebuilt over it as `rebuild_sales_stats` does;
3. the people the load acts as, each with an API token: buyers who never ordered (cash on
   delivery is capped at `COD_FIRST_ORDERS_CAP` for open orders until a first delivery, so the
   load's buyers start with none open), households (the owners of verified farms with active
   listings) and city-wide officials, who also get a session cookie for the dashboard page;
4. a pool of listings for checkouts: on sale now, a minimum order of at most 5 units costing at
   most `POOL_MAX_ORDER` đồng, and stock raised to `POOL_STOCK` so that no checkout of the run
   can sell one out (the households' stock edits keep it that high too, see the locustfile).

Everything is deterministic for a seed.
"""

import json
import random
from pathlib import Path

import psycopg

POOL_MAX_ORDER = 300_000  # đồng per checkout line: several open orders stay under the COD cap
POOL_STOCK = 1_000_000
STOCK_RANGE = (500_000, 1_000_000)  # what households set their stock to during the run
HISTORY_BUYERS = 2_000
SEARCH_TERMS = [
    # Typed without accents, as most buyers type on a phone, and with them.
    "sau rieng",
    "sầu riêng",
    "xoai",
    "xoài",
    "xoai cat hoa loc",
    "gao st25",
    "gạo ST25",
    "buoi nam roi",
    "bưởi da xanh",
    "mang cut",
    "cam sanh",
    "ca loc",
    "tôm càng",
    "mat ong",
    "hu tieu",
    "banh pia",
    "rau muong",
    "trứng vịt",
]


def _users(role: str, prefix: str, count: int, name: str, *, start: int = 0, **fields):
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from marketplace.accounts.models import User

    now, unusable = timezone.now(), make_password(None)
    users = [
        User(
            phone=f"{prefix}{index:07d}",
            full_name=f"{name} {index}",
            role=role,
            password=unusable,
            privacy_consent_at=now,
            privacy_notice_version="2026-01",
            **fields,
        )
        for index in range(start, start + count)
    ]
    return User.objects.bulk_create(users, batch_size=2000)


def _tokens(users) -> list[str]:
    from rest_framework.authtoken.models import Token

    tokens = [Token(key=Token.generate_key(), user=user) for user in users]
    Token.objects.bulk_create(tokens, batch_size=2000)
    return [token.key for token in tokens]


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def seed_history(url: str, *, lines: int) -> dict:
    """Write `lines` order lines of history over the last year and rebuild the rollups over it."""
    from datetime import timedelta

    from django.utils import timezone

    from bench.stats import DAYS, Orders, app_rebuild
    from marketplace.accounts.models import Role

    _users(Role.BUYER, "+8492", HISTORY_BUYERS, "Khách cũ")
    if not lines:
        return {"order_lines": 0}
    orders = Orders(url, now=timezone.now())
    orders.grow(lines)
    today = timezone.localdate()
    rebuilt = app_rebuild(today - timedelta(days=DAYS), today)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"order_lines": orders.lines, "rebuild": rebuilt}


def seed_people(*, buyers: int, households: int, officials: int, pool: int, seed: int = 10) -> dict:
    """Create the load's buyers, households' tokens, officials and the checkout pool; return credentials."""
    from django.db import transaction
    from django.db.models import Count, F, Q

    from farms.models import Category, Farm, FarmStatus, Product
    from farms.search import product_catalogue
    from marketplace.accounts.models import Role
    from marketplace.geo.models import Ward

    rng = random.Random(seed)
    with transaction.atomic():
        buyer_users = _users(Role.BUYER, "+8491", buyers, "Người mua")
        buyer_tokens = _tokens(buyer_users)

        farms = list(
            Farm.objects.filter(status=FarmStatus.VERIFIED)
            .annotate(active=Count("products", filter=Q(products__status="active")))
            .filter(active__gt=0)
            .select_related("owner")
            .order_by("pk")[:households]
        )
        farm_tokens = _tokens([farm.owner for farm in farms])
        listings = {
            farm.pk: list(
                Product.objects.filter(farm=farm, status="active").order_by("pk").values_list("pk", flat=True)
            )
            for farm in farms
        }

        official_users = _users(Role.OFFICIAL, "+8493", officials, "Cán bộ", city_wide=True)
        official_tokens = _tokens(official_users)

        on_sale = product_catalogue(available="now", in_stock=True).filter(
            min_order__lte=5, price__lte=POOL_MAX_ORDER / F("min_order")
        )
        pool_rows = list(on_sale.order_by("pk").values("pk", "min_order", "price"))
        rng.shuffle(pool_rows)
        pool_rows = pool_rows[:pool]
        Product.objects.filter(pk__in=[row["pk"] for row in pool_rows]).update(stock=POOL_STOCK)
        # Households edit the stock of their own listings: keep every one of them far from empty.
        Product.objects.filter(farm__in=farms, status="active").update(stock=POOL_STOCK)

    catalogue = list(product_catalogue().values_list("pk", flat=True)[:2000])
    used = Category.objects.filter(Q(products__isnull=False) | Q(children__products__isnull=False))
    return {
        "buyers": [
            {"token": token, "phone": user.phone}
            for token, user in zip(buyer_tokens, buyer_users, strict=True)
        ],
        "households": [
            {"token": token, "farm": farm.pk, "products": listings[farm.pk]}
            for token, farm in zip(farm_tokens, farms, strict=True)
        ],
        "officials": [
            {"token": token, "session": _session_cookie(user)}
            for token, user in zip(official_tokens, official_users, strict=True)
        ],
        "session_cookie_name": _cookie_name(),
        "checkout_pool": [{"product": row["pk"], "quantity": str(row["min_order"])} for row in pool_rows],
        "stock_range": list(STOCK_RANGE),
        "products": catalogue,
        "farms": list(
            Farm.objects.filter(status=FarmStatus.VERIFIED).order_by("pk").values_list("pk", flat=True)[:500]
        ),
        "categories": sorted(set(used.values_list("slug", flat=True))),
        "category_ids": sorted(set(used.values_list("pk", flat=True))),
        "wards": list(Ward.objects.order_by("code").values_list("code", flat=True)),
        "search_terms": SEARCH_TERMS,
    }


def _cookie_name() -> str:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME


def write_credentials(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    path.chmod(0o600)  # API tokens of a throwaway database, still: not world-readable
    return path
