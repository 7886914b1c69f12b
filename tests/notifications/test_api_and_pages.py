"""Notifications API (/api/v1/notifications/) and pages (/notifications/): scoped to their owner."""

import re

import pytest

from marketplace.notifications.models import Channel, Notification
from marketplace.notifications.services import notify

LIST = "/api/v1/notifications/"


def note(user, subject="Có đơn mới", channels=(Channel.IN_APP,), **fields):
    return notify(user=user, subject=subject, body="Đơn #7 đang chờ bạn nhận.", channels=channels, **fields)


def many(user, count):
    Notification.objects.bulk_create(
        Notification(user=user, subject=f"Tin {i}", body="b", channels="inapp") for i in range(count)
    )


@pytest.fixture
def lan(make_user):
    return make_user(full_name="Nguyễn Thị Lan")


@pytest.fixture
def hung(make_user):
    return make_user(full_name="Trần Văn Hùng")


# --- API: list and unread count -------------------------------------------------------


def test_list_shows_only_my_in_app_notifications_newest_first(api_as, lan, hung):
    older = note(lan, "Cũ")
    newer = note(lan, "Mới")
    note(lan, "Chỉ SMS", channels=[Channel.SMS])
    note(hung, "Của Hùng")

    response = api_as(lan).get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [n["id"] for n in body["results"]] == [newer.pk, older.pk]
    assert set(body["results"][0]) == {"id", "subject", "body", "url", "created_at", "read_at"}


def test_list_needs_credentials(api, db):
    assert api.get(LIST).status_code == 401


def test_list_pages_hold_20_by_default(api_as, lan):
    many(lan, 45)
    body = api_as(lan).get(LIST).json()
    assert body["count"] == 45
    assert len(body["results"]) == 20
    assert body["previous"] is None
    assert body["next"].endswith("/api/v1/notifications/?page=2")


def test_list_last_page_has_the_rest(api_as, lan):
    many(lan, 45)
    body = api_as(lan).get(LIST, {"page": 3}).json()
    assert len(body["results"]) == 5
    assert body["next"] is None


def test_list_page_size_can_be_chosen(api_as, lan):
    many(lan, 45)
    assert len(api_as(lan).get(LIST, {"page_size": 7}).json()["results"]) == 7


def test_list_page_size_is_capped_at_100(api_as, lan):
    many(lan, 120)
    body = api_as(lan).get(LIST, {"page_size": 1000}).json()
    assert len(body["results"]) == 100
    assert body["count"] == 120


def test_list_page_past_the_end_is_404(api_as, lan):
    many(lan, 3)
    assert api_as(lan).get(LIST, {"page": 9}).status_code == 404


def test_list_query_count_does_not_grow_with_notifications(api_as, lan, django_assert_num_queries):
    client = api_as(lan)
    many(lan, 2)
    # token lookup, count, page
    with django_assert_num_queries(3):
        client.get(LIST)
    many(lan, 60)
    with django_assert_num_queries(3):
        client.get(LIST)


def test_unread_count(api_as, lan, hung):
    note(lan)
    note(lan)
    note(lan)
    read = note(lan)
    api_as(lan).post(f"{LIST}{read.pk}/read/")
    note(lan, channels=[Channel.SMS])
    note(hung)
    response = api_as(lan).get(f"{LIST}unread-count/")
    assert response.status_code == 200
    assert response.json() == {"unread": 3}


# --- API: mark read ---------------------------------------------------------------------


def test_mark_read(api_as, lan):
    notification = note(lan)
    response = api_as(lan).post(f"{LIST}{notification.pk}/read/")
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_mark_read_twice_keeps_the_first_time(api_as, lan):
    notification = note(lan)
    client = api_as(lan)
    first = client.post(f"{LIST}{notification.pk}/read/").json()["read_at"]
    second = client.post(f"{LIST}{notification.pk}/read/").json()["read_at"]
    assert first == second


def test_someone_elses_notification_is_404_and_stays_unread(api_as, lan, hung):
    theirs = note(hung)
    response = api_as(lan).post(f"{LIST}{theirs.pk}/read/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_marks_only_mine(api_as, lan, hung):
    note(lan)
    note(lan)
    theirs = note(hung)
    response = api_as(lan).post(f"{LIST}read-all/")
    assert response.status_code == 204
    assert not Notification.objects.filter(user=lan, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


# --- Pages ----------------------------------------------------------------------------------


def badge(html: str) -> str | None:
    found = re.search(r'<span class="badge"[^>]*>(\d+)</span>', html)
    return found.group(1) if found else None


def test_page_badge_shows_the_unread_count(client, lan, hung):
    note(lan)
    note(lan)
    note(hung)
    client.force_login(lan)
    assert badge(client.get("/").content.decode()) == "2"


def test_page_badge_is_hidden_when_all_is_read(client, lan):
    note(lan)
    client.force_login(lan)
    assert badge(client.get("/").content.decode()) == "1"
    client.post("/notifications/read-all/")
    assert badge(client.get("/").content.decode()) is None


def test_notification_page_lists_mine_only(client, lan, hung):
    note(lan, "Đơn của Lan")
    note(hung, "Đơn của Hùng")
    client.force_login(lan)
    response = client.get("/notifications/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Đơn của Lan" in html
    assert "Đơn của Hùng" not in html


def test_notification_page_needs_login(client, db):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


def test_notification_page_query_count_does_not_grow(client, lan, django_assert_max_num_queries):
    client.force_login(lan)
    many(lan, 2)
    with django_assert_max_num_queries(8) as few:
        client.get("/notifications/")
    many(lan, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/notifications/")
    assert response.status_code == 200


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, lan):
    notification = note(lan, url="/account/")
    client.force_login(lan)
    response = client.post(f"/notifications/{notification.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_a_notification_never_leaves_the_site(client, lan):
    notification = note(lan, url="https://evil.example/steal")
    client.force_login(lan)
    response = client.post(f"/notifications/{notification.pk}/open/")
    assert response["Location"] == "/notifications/"


def test_opening_someone_elses_notification_is_404(client, lan, hung):
    theirs = note(hung)
    client.force_login(lan)
    assert client.post(f"/notifications/{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_page_marks_everything_read(client, lan):
    note(lan)
    note(lan)
    client.force_login(lan)
    response = client.post("/notifications/read-all/")
    assert response.status_code == 302
    assert not Notification.objects.filter(user=lan, read_at__isnull=True).exists()
