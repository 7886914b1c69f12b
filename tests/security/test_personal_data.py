"""No personal data where it does not belong: a sweep of every answer, page and export.

The world (`tests/security/world.py`) has buyers with orders to two households, households
with citizen ID (CCCD) numbers, couriers and officials. As anonymous and as each of its ten
users, the sweep fetches every GET of the authorization matrix the viewer may open, every
order, household part, run and shipment of the viewer's own, the exports (officials' CSV and
XLSX, the account data export, run sheets, statements) and, for staff, the admin. Bodies are
decoded (JSON, HTML, CSV, XLSX), and:

- no CCCD number appears anywhere, in any spelling (`092085731101`, `0920 8573 1101`,
  `092.085.731.101`): only a hash and the last four digits are kept (docs/architecture.md);
- a buyer's phone, street address and name (the account's and each order's recipient) appear
  only to that buyer, the couriers carrying it, and staff (not to the households of the order:
  their parts carry no buyer's contact, see `HOUSEHOLDS_SEE_BUYERS` in world.py);
- a household's address, phone and representative's name only to its owner, the officials of
  its ward, the courier who picks up there, and staff (the public sees the household as a
  seller: name, ward, crops).
"""

import html
import json
import re

import pytest
from django.contrib import admin
from django.urls import reverse

from .matrix import MATRIX, decode, url_for
from .test_authorization_matrix import Clients, body_text
from .world import VIEWERS, Sensitive, World

pytestmark = pytest.mark.django_db

# Digits people group with spaces, dots or dashes ("0386 114 271", "092.085.731.101").
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[\s.\-\u00a0]+(?=\d)")
_SPACES = re.compile(r"\s+")


def decode_html(text: str) -> str:
    return html.unescape(text)


def digits_joined(text: str) -> str:
    return _BETWEEN_DIGITS.sub("", text)


def needle(item: Sensitive) -> str:
    """What to look for: the number's significant digits, or the words."""
    if item.kind in ("phone", "cccd"):
        digits = re.sub(r"\D", "", item.value)
        return digits[1:] if item.kind == "phone" else digits  # 0386… and +84386… alike
    return _SPACES.sub(" ", item.value).casefold()


def leaks(world, viewer: str, url: str, text: str, shown: dict | None = None) -> list[str]:
    """The values in `text` the viewer may not see; who saw those it may see goes in `shown`."""
    found = []
    numbers = digits_joined(text)
    words = _SPACES.sub(" ", text).casefold()
    for item in world.sensitive:
        haystack = numbers if item.kind in ("phone", "cccd") else words
        if needle(item) not in haystack:
            continue
        if viewer in item.allowed:
            if shown is not None:
                shown.setdefault(item, set()).add(viewer)
        else:
            found.append(f"{url} as {viewer}: {item.about} ({item.value!r})")
    return found


def own_urls(world, viewer: str) -> list[str]:
    """Each object of the viewer's own, beyond the one the matrix tries."""
    ids = world.ids[viewer]
    urls = []
    if viewer.startswith("buyer_"):
        for key, value in ids.items():
            if key.startswith("order_"):
                urls.append(reverse("order", kwargs={"pk": value}))
            if key.startswith("number_"):
                urls.append(reverse("orders:detail", kwargs={"number": value}))
        urls += [reverse("problem", kwargs={"pk": pk}) for pk in ids["problem_ids"]]
    if viewer.startswith("farmer_"):
        urls += [reverse("farm-order", kwargs={"pk": pk}) for pk in ids["farm_orders"]]
        urls += [reverse("problem", kwargs={"pk": pk}) for pk in ids["problems"]]
        urls.append(reverse("farm-detail", kwargs={"pk": ids["farm"]}))
        urls.append(reverse("my-farm"))
        urls.append(reverse("orders:statement", kwargs={"month": ids["month"]}) + "?format=csv")
        urls.append(reverse("ledger"))
    if viewer.startswith("courier_"):
        run = ids["run"]
        urls += [
            reverse("run", kwargs={"pk": run}),
            reverse("run", kwargs={"pk": world.ids["buyer_alice"]["open_run"]}),  # may claim it: no names
            reverse("logistics:run", kwargs={"pk": run}),
            reverse("logistics:run_print", kwargs={"pk": run}),
            reverse("logistics:run_print", kwargs={"pk": run}) + "?format=csv",
        ]
        urls += [reverse("shipment", kwargs={"pk": pk}) for pk in ids["shipments"]]
        urls.append(reverse("courier-home"))
    if viewer.startswith("official_"):
        urls += [
            reverse("farm-detail", kwargs={"pk": ids["farm"]}),
            reverse("farm-detail", kwargs={"pk": ids["farm_pending"]}),
            reverse("farms:official_farm", kwargs={"pk": ids["farm"]}),
            reverse("farms:official_farm", kwargs={"pk": ids["farm_pending"]}),
            reverse("stats-export-file", kwargs={"pk": ids["export_job"]}),
            reverse("stats-export") + "?kind=sales&file=xlsx&group_by=household",
            reverse("stats-export")
            + "?kind=prices&file=csv&product="
            + str(world.ids[f"farmer_{viewer.split('_')[1]}"]["product"]),
            reverse("reports:export") + "?kind=sales&file=xlsx&group_by=ward",
            reverse("stats-sales") + "?group_by=household",
            reverse("stats-fulfilment") + "?group_by=ward",
            reverse("stats-registrations") + "?group_by=ward",
        ]
    if viewer.startswith("staff_"):
        urls += staff_urls(world)
    return urls


def staff_urls(world) -> list[str]:
    """The admin: every list, and the change page of each order, household, user and shipment."""
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        first = model.objects.order_by("pk").first()
        if first is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    farm, month = world.ids["farmer_alice"]["farm"], world.ids["farmer_alice"]["month"]
    urls += [
        reverse("runs"),
        reverse("ledger") + f"?farm={farm}",
        reverse("orders:staff_statement", kwargs={"farm_id": farm, "month": month}),
        reverse("orders:staff_statement", kwargs={"farm_id": farm, "month": month}) + "?format=csv",
    ]
    for courier in ("courier_alice", "courier_bob"):
        urls.append(reverse("run", kwargs={"pk": world.ids[courier]["run"]}))
        urls += [reverse("shipment", kwargs={"pk": pk}) for pk in world.ids[courier]["shipments"]]
    return urls


def sweep_urls(world, viewer: str) -> list[str]:
    urls = []
    for key, cases in MATRIX.items():
        for entry in cases:
            if entry.sweep and entry.get is not None and entry.get[viewer] == 200:
                urls.append(url_for(world, key, entry))
    if viewer != "anonymous":
        urls += [reverse("accounts:export"), reverse("me-export"), reverse("me")]
        urls += own_urls(world, viewer)
    return list(dict.fromkeys(urls))


def test_no_personal_data_where_it_does_not_belong(world):
    clients = Clients(world)
    shown: dict[Sensitive, set[str]] = {}
    found: list[str] = []
    fetched = 0
    errors = []
    for viewer in VIEWERS:
        pending = sweep_urls(world, viewer)
        seen = set()
        while pending:
            url = pending.pop(0)
            if url in seen:
                continue
            seen.add(url)
            response = clients.request(viewer, "get", url)
            fetched += 1
            if response.status_code >= 400:
                errors.append(f"{url} as {viewer}: {response.status_code}")
                continue
            text = decode(response)
            found += leaks(world, viewer, url, text, shown)
            # A paginated list: its next page too (the first few).
            if response.get("Content-Type", "").startswith("application/json") and len(seen) < 500:
                try:
                    following = json.loads(body_text(response)).get("next")
                except (ValueError, AttributeError):
                    following = None
                if following:
                    pending.append(following.split("testserver", 1)[-1])
    print(f"personal data: {fetched} answers read as {len(VIEWERS)} viewers, {len(world.sensitive)} values")
    assert not errors, "answers the sweep could not read:\n" + "\n".join(errors)
    assert not found, f"{len(found)} personal values where they do not belong:\n" + "\n".join(found)
    # The sweep reads what matters: every value but the CCCDs shows up where it belongs.
    unseen = [item.about for item in world.sensitive if item.kind != "cccd" and item not in shown]
    whose = {"buyers' contacts": "buyer_", "households' contacts": "household "}
    for label, prefix in whose.items():
        roles = {
            viewer.rsplit("_", 1)[0]
            for item, viewers in shown.items()
            if item.about.startswith(prefix)
            for viewer in viewers
        }
        print(f"{label} seen by: {', '.join(sorted(roles))}")
    assert not unseen, f"values the sweep never saw, not even where they belong: {unseen}"


def test_the_sweep_finds_a_planted_leak():
    """The sweep's eyes: a CCCD in spaced digits, a phone in +84 form, an address in capitals in HTML."""
    items = [
        Sensitive("092085731101", "cccd", "a CCCD", frozenset()),
        Sensitive("0386 114 271", "phone", "a buyer's phone", frozenset({"buyer_alice"})),
        Sensitive("101 hẻm Zeta", "address", "a buyer's address", frozenset({"buyer_alice"})),
    ]
    world = World(users={}, tokens={}, ids={}, sensitive=items)
    page = "<p>0920 8573 1101</p><td>+84 386.114.271</td><span>101 H&#7866;M  ZETA</span>"
    found = leaks(world, "official_alice", "/planted/", decode_html(page))
    assert [line.split(": ", 1)[1] for line in found] == [
        "a CCCD ('092085731101')",
        "a buyer's phone ('0386 114 271')",
        "a buyer's address ('101 hẻm Zeta')",
    ]
    assert [
        line.split(": ", 1)[1] for line in leaks(world, "buyer_alice", "/planted/", decode_html(page))
    ] == ["a CCCD ('092085731101')"]
    # Numbers that only look alike are not a match.
    assert not leaks(world, "official_alice", "/planted/", "092085731100 0386 114 270")


def test_the_sweep_looks_for_every_contact_the_registry_holds(world):
    """The sweep's list checked against the personal data registry: every name, phone, address
    and ID number the registry finds of a buyer or a household of the world is a value the
    sweep looks for (a household's name aside: it sells under it, the catalogue shows it). A new
    registered field whose values the sweep does not know fails here until `world.sensitive`
    has them. (Couriers', officials' and staff's own names are not swept: who may see them is
    not written down yet.)"""
    from farms.models import Farm
    from marketplace.accounts.personal_data import Kind, personal_data_records

    def key_of(item: Sensitive) -> str:
        return needle(item)[-9:] if item.kind == "phone" else needle(item)  # 0386… and +84386… alike

    looked_for = {key_of(item) for item in world.sensitive}
    public = {name.casefold() for name in Farm.objects.values_list("name", flat=True)}
    kinds = {Kind.NAME: "name", Kind.PHONE: "phone", Kind.ADDRESS: "address", Kind.ID_NUMBER: "cccd"}
    unknown = []
    for key, user in world.users.items():
        if not key.startswith(("buyer_", "farmer_")):
            continue
        for record in personal_data_records():
            for spec in record.fields:
                if spec.kind not in kinds or spec.name in ("cccd_hash", "cccd_last4"):
                    continue  # a keyed hash and four digits: the sweep looks for the number itself
                for value in record.rows_of(user).values_list(spec.name, flat=True):
                    if not value or value.startswith("deleted:"):
                        continue
                    wanted = key_of(Sensitive(value, kinds[spec.kind], "", frozenset()))
                    if wanted not in looked_for and wanted not in public:
                        unknown.append(f"{key}: {record.label}.{spec.name} = {value!r}")
    assert not unknown, "registered values the sweep never looks for:\n" + "\n".join(sorted(set(unknown)))
