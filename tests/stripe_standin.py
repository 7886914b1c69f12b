"""A local stand-in for the slice of Stripe's API that Chợ Nổi uses, for tests without network.

Tests point the REAL stripe library at it through its base address::

    with StripeStandin() as standin:
        client = stripe.StripeClient("sk_test_standin", base_addresses={"api": standin.url},
                                     max_network_retries=0)

It models only what the app calls, in VND: Checkout Sessions in payment mode (create, retrieve,
list by status and created with paging, expire), refunds of a payment intent, and retrieving
intents, charges and refunds. Other URLs answer 404 and unmodelled parameters 400
`parameter_unknown`, so a new call in the app fails loudly until the stand-in learns it. Answers
and errors are JSON shaped like Stripe's, so the library raises its usual exceptions.

Test controls play the buyer and Stripe's dashboard: `complete`, `fail_payment`,
`refund_in_dashboard`, the `unreachable` flag, the `clock`; `event` and `sign` build webhooks.
"""

import copy
import hashlib
import hmac
import json
import operator
import re
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-10-28.endive"  # the version stripe==16.1.0 pins; a test compares the two
VND_MAX = 99_999_999  # Stripe's largest amount in VND (a zero-decimal currency)
SESSION_PARAMS = {
    "mode",
    "currency",
    "line_items",
    "client_reference_id",
    "metadata",
    "locale",
    "payment_intent_data",
    "success_url",
    "cancel_url",
    "expires_at",
}
LIST_PARAMS = {"status", "created", "limit", "starting_after"}
COMPARE = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
REFUND_PARAMS = {"payment_intent", "amount", "metadata", "reason"}
RETRIEVABLE = {
    "checkout/sessions": "checkout.session",
    "payment_intents": "payment_intent",
    "charges": "charge",
    "refunds": "refund",
}


class StripeError(Exception):
    """An error answered as Stripe does: `{"error": {"type", "message", "code", "param"}}`."""

    def __init__(self, status, message, code=None, param=None, type="invalid_request_error"):
        super().__init__(message)
        self.status, self.body = (
            status,
            {"error": {"type": type, "message": message, "code": code, "param": param}},
        )


@dataclass(frozen=True)
class Request:
    """One request the stand-in received; `params` are the parsed form values (all strings)."""

    method: str
    path: str
    params: dict
    idempotency_key: str | None
    status: int | None  # None when `unreachable` dropped it


def parse_form(query: str) -> dict:
    """Parse Stripe's form encoding (`a[b][0][c]=1`) into nested dicts and lists of strings."""
    root: dict = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        name = key.split("[", 1)[0]
        *parents, last = [name, *re.findall(r"\[([^\]]*)\]", key[len(name) :])]
        node = root
        for part in parents:
            node = node.setdefault(part or str(len(node)), {})
        node[last or str(len(node))] = value  # `a[]=x` appends
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send for `payload` signed with `secret`."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def _new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:24]


def _int(value, param: str, minimum: int = 0) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeError(400, f"Invalid integer: {value}", "parameter_invalid_integer", param)
    if int(value) < minimum:
        raise StripeError(
            400, f"This value must be greater than or equal to {minimum}.", "parameter_invalid_integer", param
        )
    return int(value)


def _only(params, allowed: set, where: str = "") -> dict:
    if not isinstance(params, dict):
        raise StripeError(400, f"Invalid object: {where}", "parameter_invalid_object", where)
    for key in params:
        if key not in allowed:
            name = f"{where}[{key}]" if where else key
            raise StripeError(
                400,
                f"Received unknown parameter: {name} (the stand-in does not model it)",
                "parameter_unknown",
                name,
            )
    return params


class StripeStandin:
    """Stripe's API on 127.0.0.1 (a random port), served from a daemon thread."""

    def __init__(self, key_prefix: str = "sk_test_"):
        self.key_prefix = key_prefix
        self.objects: dict[str, dict] = {}  # every object by id, in creation order
        self.requests: list[Request] = []  # appended under the lock
        self.unreachable = False  # True: drop connections unanswered (stripe.APIConnectionError)
        self.clock = time.time  # replace to move the stand-in's "now" (session expiry, created)
        self._lock = threading.RLock()
        self._replays: dict[str, tuple[tuple, int, str]] = {}  # idempotency key → request, answer
        self._intent_metadata: dict[str, dict] = {}  # session id → payment_intent_data[metadata]
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> "StripeStandin":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.standin = self
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    __enter__ = start

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def get(self, object_id: str) -> dict:
        """A copy of any stored object by id (a session's expiry applied)."""
        with self._lock:
            return copy.deepcopy(self._refresh(self.objects[object_id]))

    def all(self, object_type: str) -> list[dict]:
        """Copies of every stored object of a type (`"checkout.session"`, `"refund"`…), oldest first."""
        with self._lock:
            return [
                copy.deepcopy(self._refresh(o)) for o in self.objects.values() if o["object"] == object_type
            ]

    def requests_to(self, method: str, path: str) -> list[Request]:
        """The recorded requests for one method and path."""
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def send_webhooks_to(self, url: str, secret: str) -> None:
        """Post Stripe's signed events to the site when a buyer pays on the hosted page."""
        self.webhook_url, self.webhook_secret = url, secret

    def hosted_page(self, method: str, session_id: str) -> tuple[int, str, dict]:
        """The hosted payment page: GET shows it, POST pays (then the event, then back to the site)."""
        session = self.objects.get(session_id)
        if session is None or session["object"] != "checkout.session":
            return 404, "<p>No such checkout session</p>", {}
        if method == "GET":
            amount = f"{session['amount_total']:,}".replace(",", ".")
            page = (
                '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                '<link rel="icon" href="data:,">'  # no favicon request, as Stripe's page needs none
                f"<title>Pay {amount} VND</title></head><body><main><h1>Stand-in checkout</h1>"
                f"<p>{amount} VND</p><form method=\"post\"><button type=\"submit\">Pay</button></form>"
                "</main></body></html>"
            )
            return 200, page, {}
        session = self.complete(session_id)
        if getattr(self, "webhook_url", None):
            payload = json.dumps(self.event("checkout.session.completed", session)).encode()
            request = urllib.request.Request(
                self.webhook_url,
                data=payload,
                headers={"Content-Type": "application/json",
                         "Stripe-Signature": sign(payload, self.webhook_secret)},
            )
            urllib.request.urlopen(request, timeout=30).read()
        back = (session.get("success_url") or "/").replace("{CHECKOUT_SESSION_ID}", session_id)
        return 303, "", {"Location": back}

    def complete(self, session_id: str) -> dict:
        """The buyer pays: the session becomes complete/paid, with a succeeded intent and a charge."""
        with self._lock:
            session = self._open_session(session_id)
            intent = self._intent_for(session)
            charge = self._store(
                "ch_",
                "charge",
                amount=intent["amount"],
                amount_captured=intent["amount"],
                amount_refunded=0,
                refunded=False,
                paid=True,
                status="succeeded",
                currency=intent["currency"],
                payment_intent=intent["id"],
                metadata=dict(intent["metadata"]),
            )
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=charge["id"],
                last_payment_error=None,
            )
            session.update(status="complete", payment_status="paid", url=None)
            return copy.deepcopy(session)

    def fail_payment(self, session_id: str) -> dict:
        """The buyer's card is declined: the session stays open; returns the failed payment intent."""
        with self._lock:
            intent = self._intent_for(self._open_session(session_id))
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": "Your card was declined.",
                },
            )
            return copy.deepcopy(intent)

    def refund_in_dashboard(self, payment_intent_id: str, amount: int | None = None) -> dict:
        """A refund made outside the app; returns the updated charge (a `charge.refunded` object)."""
        with self._lock:
            refund = self._refund(payment_intent_id, amount, {})
            return copy.deepcopy(self.objects[refund["charge"]])

    def event(self, type: str, obj: dict) -> dict:
        """A Stripe event wrapping a copy of `obj` (sign its JSON with `sign` to post it)."""
        return {
            "id": _new_id("evt_"),
            "object": "event",
            "type": type,
            "created": int(self.clock()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "api_version": API_VERSION,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        }

    def handle(self, method: str, path: str, params: dict, headers) -> tuple[int, str, dict] | None:
        """Answer one request: (HTTP status, JSON body, extra headers), or None to drop it. Records it."""
        key = headers.get("Idempotency-Key") if method == "POST" else None
        with self._lock:
            answer = None if self.unreachable else self._answer(method, path, params, headers, key)
            self.requests.append(Request(method, path, params, key, answer and answer[0]))
            return answer

    def _answer(self, method, path, params, headers, key):
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer " + self.key_prefix):
            message = f"Invalid API Key provided: {auth.removeprefix('Bearer ')[:12]}…"
            return 401, json.dumps(StripeError(401, message).body), {}
        if key in self._replays:
            seen, status, body = self._replays[key]
            if seen == (method, path, params):
                return status, body, {"Idempotent-Replayed": "true"}
            message = (
                f"Keys for idempotent requests can only be used with the same parameters they were "
                f"first used with. Try using a key other than '{key}' if you meant to execute a "
                f"different request."
            )
            return 400, json.dumps(StripeError(400, message, type="idempotency_error").body), {}
        try:
            status, body = 200, json.dumps(self._route(method, path, params))
        except StripeError as error:
            status, body = error.status, json.dumps(error.body)
        if key and status == 200:  # like Stripe, failed validation is not saved for replay
            self._replays[key] = ((method, path, params), status, body)
        return status, body, {}

    def _route(self, method, path, params):
        if (method, path) == ("POST", "/v1/checkout/sessions"):
            return self._create_session(params)
        if (method, path) == ("GET", "/v1/checkout/sessions"):
            return self._list_sessions(params)
        if method == "POST" and (m := re.fullmatch(r"/v1/checkout/sessions/([^/]+)/expire", path)):
            _only(params, set())
            return self._expire(m[1])
        if (method, path) == ("GET", "/v1/refunds"):  # by payment_intent: what the app asks
            _only(params, {"payment_intent", "limit"})
            found = [
                r for r in reversed(self.all("refund")) if r["payment_intent"] == params.get("payment_intent")
            ]
            return {"object": "list", "data": found, "has_more": False, "url": "/v1/refunds"}
        if (method, path) == ("POST", "/v1/refunds"):
            amount = _int(params["amount"], "amount", 1) if "amount" in _only(params, REFUND_PARAMS) else None
            return self._refund(params.get("payment_intent", ""), amount, params.get("metadata", {}))
        m = re.fullmatch(r"/v1/(checkout/sessions|payment_intents|charges|refunds)/([^/]+)", path)
        if method == "GET" and m:
            _only(params, set())
            return self._find(m[2], RETRIEVABLE[m[1]])
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}); not modelled by the stand-in.")

    def _create_session(self, params):
        _only(params, SESSION_PARAMS)
        if params.get("mode") != "payment":
            raise StripeError(400, "The stand-in models only mode=payment.", param="mode")
        currency = params.get("currency")
        if currency != "vnd":
            raise StripeError(400, f"Only vnd is modelled, not {currency!r}.", param="currency")
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            raise StripeError(400, "Missing required param: line_items.", "parameter_missing", "line_items")
        total = 0
        for n, item in enumerate(items):
            where = f"line_items[{n}]"
            item = _only(item, {"quantity", "price_data"}, where)
            where_price = f"{where}[price_data]"
            price = _only(item.get("price_data"), {"currency", "unit_amount", "product_data"}, where_price)
            if price.get("currency") != currency:
                raise StripeError(400, f"Line items must be in {currency}.", param=where_price)
            quantity = _int(item.get("quantity", ""), f"{where}[quantity]", 1)
            total += quantity * _int(price.get("unit_amount", ""), f"{where_price}[unit_amount]")
        if total > VND_MAX:
            raise StripeError(400, f"Amount must be no more than ₫{VND_MAX:,}", "amount_too_large", "amount")
        now = int(self.clock())
        expires_at = _int(params.get("expires_at", str(now + 86400)), "expires_at")
        if not now + 1800 <= expires_at <= now + 86400:
            raise StripeError(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.",
                "parameter_invalid_integer",
                "expires_at",
            )
        intent_data = _only(params.get("payment_intent_data", {}), {"metadata"}, "payment_intent_data")
        session = self._store(
            "cs_test_",
            "checkout.session",
            mode="payment",
            currency=currency,
            amount_subtotal=total,
            amount_total=total,
            status="open",
            payment_status="unpaid",
            payment_intent=None,
            expires_at=expires_at,
            metadata=params.get("metadata", {}),
            payment_method_types=["card"],
            client_reference_id=params.get("client_reference_id"),
            success_url=params.get("success_url"),
            cancel_url=params.get("cancel_url"),
            locale=params.get("locale"),
        )
        session["url"] = f"{self.url}/pay/{session['id']}"
        self._intent_metadata[session["id"]] = intent_data.get("metadata", {})
        return session

    def _list_sessions(self, params):
        _only(params, LIST_PARAMS)
        limit = _int(params.get("limit", "10"), "limit", 1)
        if limit > 100:
            raise StripeError(400, "This value must be at most 100.", "parameter_invalid_integer", "limit")
        status = params.get("status")
        if status not in (None, "open", "complete", "expired"):
            raise StripeError(400, "Invalid status: open, complete or expired", param="status")
        created = params.get("created", {})
        created = {"gte": created, "lte": created} if isinstance(created, str) else created  # created=<ts>
        created = _only(created, set(COMPARE), "created")
        bounds = [(COMPARE[op], _int(v, f"created[{op}]")) for op, v in created.items()]
        found = [
            s
            for s in reversed(self.all("checkout.session"))
            if status in (None, s["status"]) and all(f(s["created"], v) for f, v in bounds)
        ]
        found.sort(key=lambda s: s["created"], reverse=True)  # newest first, like Stripe
        if "starting_after" in params:
            ids = [s["id"] for s in found]
            if params["starting_after"] not in ids:
                raise StripeError(
                    400,
                    f"No such checkout.session: '{params['starting_after']}'",
                    "resource_missing",
                    "starting_after",
                )
            found = found[ids.index(params["starting_after"]) + 1 :]
        return {
            "object": "list",
            "data": found[:limit],
            "has_more": len(found) > limit,
            "url": "/v1/checkout/sessions",
        }

    def _expire(self, session_id):
        session = self._find(session_id, "checkout.session")
        if session["status"] != "open":
            raise StripeError(
                400,
                "Only Checkout Sessions with a status in ['open'] can be expired. This "
                f"Checkout Session has a status of '{session['status']}'.",
                param="id",
            )
        session.update(status="expired", url=None)
        return session

    def _refund(self, payment_intent_id, amount, metadata):
        intent = self._find(payment_intent_id, "payment_intent")
        if intent["status"] != "succeeded":
            raise StripeError(
                400,
                f"This PaymentIntent ({payment_intent_id}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        charge = self.objects[intent["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        if left == 0:
            raise StripeError(
                400, f"Charge {charge['id']} has already been refunded.", "charge_already_refunded"
            )
        amount = left if amount is None else amount
        if amount > left:
            raise StripeError(
                400,
                f"Refund amount (₫{amount:,}) is greater than unrefunded amount on charge (₫{left:,})",
                "amount_too_large",
                "amount",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return self._store(
            "re_",
            "refund",
            amount=amount,
            currency=charge["currency"],
            charge=charge["id"],
            payment_intent=intent["id"],
            status="succeeded",
            metadata=metadata,
            reason=None,
        )

    def _store(self, prefix, object_type, **fields):
        obj = {
            "id": _new_id(prefix),
            "object": object_type,
            "created": int(self.clock()),
            "livemode": False,
            **fields,
        }
        self.objects[obj["id"]] = obj
        return obj

    def _find(self, object_id, object_type):
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != object_type:
            raise StripeError(404, f"No such {object_type}: '{object_id}'", "resource_missing", "id")
        return self._refresh(obj)

    def _refresh(self, obj):
        if obj.get("expires_at") and obj["status"] == "open" and self.clock() >= obj["expires_at"]:
            obj.update(status="expired", url=None)
        return obj

    def _open_session(self, session_id):
        session = self._find(session_id, "checkout.session")
        if session["status"] != "open":
            raise ValueError(f"{session_id} is {session['status']}, not open")
        return session

    def _intent_for(self, session):
        if session["payment_intent"]:
            return self.objects[session["payment_intent"]]
        intent = self._store(
            "pi_",
            "payment_intent",
            amount=session["amount_total"],
            amount_received=0,
            currency=session["currency"],
            status="requires_payment_method",
            metadata=dict(self._intent_metadata[session["id"]]),
            latest_charge=None,
            last_payment_error=None,
        )
        session["payment_intent"] = intent["id"]
        return intent


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.0: one request per connection, so no pooled keep-alive connection outlives a test."""

    def _serve(self):
        standin: StripeStandin = self.server.standin
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        content_type = "application/json"
        if url.path.startswith("/pay/"):
            answer, content_type = standin.hosted_page(self.command, url.path[5:]), "text/html"
        else:
            params = parse_form(url.query if self.command == "GET" else raw)
            answer = standin.handle(self.command, url.path, params, self.headers)
        if answer is None:  # `unreachable`: close without a word, the library sees a dropped connection
            return
        status, body, extra = answer
        data = body.encode()
        self.send_response(status)
        for name, value in {
            "Content-Type": content_type,
            "Content-Length": str(len(data)),
            "Request-Id": _new_id("req_"),
            **extra,
        }.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format, *args):
        pass
