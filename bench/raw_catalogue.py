"""The floor for `GET /api/v1/products/`: the app's JSON, built by PostgreSQL in one statement.

A plain WSGI callable (`gunicorn bench.raw_catalogue`), one persistent psycopg 3 connection
per worker. PostgreSQL builds the whole answer, the `{count, next, previous, results}` envelope
and every listing with its household, ward, photos and badges, with `json_build_object` and
`json_agg`, and the worker sends the text it gets. What is left in Python per request is
reading `page` and `page_size` and making DRF's `next`/`previous` links.

Django is loaded once per worker at import, only to read what the database does not hold:
the unit and certification labels in the default language, the time zone and MEDIA_URL.
Supported: `page` and `page_size` (as DRF's PageNumberPagination reads them); an unknown path
is a 404, a page past the end a 404 like the app's.
"""

import os
from urllib.parse import parse_qs, urlencode

import psycopg
from psycopg import sql

from bench.harness import DEFAULT_DATABASE_URL

PATH = "/api/v1/products/"
PAGE_SIZE, MAX_PAGE_SIZE = 20, 100


def _reference():
    """Return (unit labels, certification kind labels, time zone, MEDIA_URL) from the app."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import translation

    from farms.models import CertificationKind
    from farms.units import Unit

    with translation.override(settings.LANGUAGE_CODE):
        units = {unit.value: str(unit.label) for unit in Unit}
        kinds = {kind.value: str(kind.label) for kind in CertificationKind}
    return units, kinds, settings.TIME_ZONE, settings.MEDIA_URL


def _case(column: str, labels: dict[str, str]) -> sql.Composable:
    whens = sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN {}").format(sql.Literal(code), sql.Literal(label))
        for code, label in labels.items()
    )
    return sql.SQL("CASE {} {} END").format(sql.SQL(column), whens)


def _iso(column: str) -> sql.Composable:
    """Return `column` (timestamptz) as Python's isoformat() in the session's time zone."""
    return sql.SQL(
        """to_char({c}, 'YYYY-MM-DD"T"HH24:MI:SS')
        || CASE WHEN to_char({c}, 'US') = '000000' THEN '' ELSE to_char({c}, '.US') END
        || to_char({c}, 'TZH:TZM')"""
    ).format(c=sql.SQL(column))


def _day(column: str) -> sql.Composable:
    return sql.SQL("to_char({}, 'YYYY-MM-DD')").format(sql.SQL(column))


VISIBLE = "p.status = 'active' AND f.status = 'verified'"


def build_query(units: dict, kinds: dict, media_url: str) -> sql.Composed:
    """Return the statement: (count, the answer as JSON text) for one page."""
    return sql.SQL(
        """
SELECT t.n, json_build_object(
  'count', t.n,
  'next', CASE WHEN t.n > %(end)s THEN %(next)s::text END,
  'previous', %(previous)s::text,
  'results', COALESCE((
    SELECT json_agg(json_build_object(
      'id', p.id,
      'name', p.name,
      'category', p.category_id,
      'category_name', c.name,
      'description', p.description,
      'farm', json_build_object(
        'id', f.id, 'name', f.name, 'ward', json_build_object('code', w.code, 'name', w.name)
      ),
      'unit', p.unit,
      'unit_label', {unit_label},
      'unit_weight_kg', p.unit_weight_kg::text,
      'price', p.price,
      'stock', p.stock::text,
      'min_order', p.min_order::text,
      'status', p.status,
      'harvest_date', {harvest_date},
      'available_from', {available_from},
      'available_until', {available_until},
      'lot', p.lot_id,
      'lot_code', l.code,
      'images', COALESCE((
        SELECT json_agg(json_build_object(
          'id', i.id, 'position', i.position, 'status', i.status, 'width', i.width, 'height', i.height,
          'urls', json_build_object(
            'original', %(base)s || {media} || NULLIF(i.original, ''),
            'thumb', %(base)s || {media} || NULLIF(i.thumb, ''),
            'display', %(base)s || {media} || NULLIF(i.display, '')
          )
        ) ORDER BY i.position, i.id)
        FROM farms_productimage i WHERE i.product_id = p.id
      ), '[]'::json),
      'certifications', COALESCE((
        SELECT json_agg(json_build_object(
          'kind', k.kind,
          'ocop_stars', k.ocop_stars,
          'label', CASE WHEN k.kind = 'ocop' THEN 'OCOP ' || k.ocop_stars || '★' ELSE {kind_label} END,
          'expires_on', {expires_on}
        ) ORDER BY k.kind, k.id)
        FROM farms_certification k
        WHERE k.farm_id = f.id AND k.status = 'verified'
          AND k.issued_on <= current_date AND k.expires_on >= current_date
      ), '[]'::json),
      'created_at', {created_at},
      'updated_at', {updated_at}
    ) ORDER BY p.created_at DESC, p.id DESC)
    FROM (
      SELECT p.* FROM farms_product p JOIN farms_farm f ON f.id = p.farm_id
      WHERE {visible}
      ORDER BY p.created_at DESC, p.id DESC
      LIMIT %(limit)s OFFSET %(offset)s
    ) p
    JOIN farms_farm f ON f.id = p.farm_id
    JOIN geo_ward w ON w.code = f.ward_id
    JOIN farms_category c ON c.id = p.category_id
    LEFT JOIN farms_harvestlot l ON l.id = p.lot_id
  ), '[]'::json)
)::text
FROM (SELECT count(*) AS n FROM farms_product p JOIN farms_farm f ON f.id = p.farm_id WHERE {visible}) t
"""
    ).format(
        unit_label=_case("p.unit", units),
        kind_label=_case("k.kind", kinds),
        media=sql.Literal(media_url),
        harvest_date=_day("p.harvest_date"),
        available_from=_day("p.available_from"),
        available_until=_day("p.available_until"),
        expires_on=_day("k.expires_on"),
        created_at=_iso("p.created_at"),
        updated_at=_iso("p.updated_at"),
        visible=sql.SQL(VISIBLE),
    )


UNITS, KINDS, TIME_ZONE, MEDIA_URL = _reference()
QUERY = build_query(UNITS, KINDS, MEDIA_URL)
DATABASE_URL = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
_connection: psycopg.Connection | None = None


def _connect() -> psycopg.Connection:
    conn = psycopg.connect(DATABASE_URL, autocommit=True)
    conn.execute(sql.SQL("SET TIME ZONE {}").format(sql.Literal(TIME_ZONE)))
    return conn


def _run(params: dict) -> tuple[int, str]:
    global _connection
    if _connection is None or _connection.closed:
        _connection = _connect()
    try:
        return _connection.execute(QUERY, params).fetchone()
    except psycopg.OperationalError:
        _connection.close()  # the server went away: one fresh try
        _connection = _connect()
        return _connection.execute(QUERY, params).fetchone()


def _positive(value: str | None, default: int, cutoff: int | None = None) -> int:
    """Read `page_size` as DRF does: a positive integer, capped; anything else the default."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    if number <= 0:
        return default
    return min(number, cutoff) if cutoff else number


def _link(base: str, query: dict, page: int | None) -> str:
    """Return DRF's link: the request's URL with `page` replaced (None: removed), keys sorted."""
    query = dict(query)
    if page is None:
        query.pop("page", None)
    else:
        query["page"] = [str(page)]
    encoded = urlencode(sorted(query.items()), doseq=True)
    return f"{base}?{encoded}" if encoded else base


def _answer(start_response, status: str, body: bytes):
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
        return _answer(start_response, "404 Not Found", b'{"detail":"Not found.","code":"not_found"}')
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    size = _positive((query.get("page_size") or [None])[-1], PAGE_SIZE, MAX_PAGE_SIZE)
    try:
        page = int((query.get("page") or [""])[-1] or 1)  # DRF reads an empty page as the first
    except ValueError:
        page = 0
    if page < 1:
        return _answer(start_response, "404 Not Found", b'{"detail":"Invalid page.","code":"not_found"}')
    base = f"{environ['wsgi.url_scheme']}://{environ['HTTP_HOST']}"
    url = base + PATH
    params = {
        "base": base,
        "limit": size,
        "offset": (page - 1) * size,
        "end": page * size,
        "next": _link(url, query, page + 1),
        "previous": None if page == 1 else _link(url, query, None if page == 2 else page - 1),
    }
    count, body = _run(params)
    if page > 1 and count <= (page - 1) * size:
        return _answer(start_response, "404 Not Found", b'{"detail":"Invalid page.","code":"not_found"}')
    return _answer(start_response, "200 OK", body.encode())
