"""Two sign-ups with one number at the same moment: exactly one account, one clear error."""
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from marketplace.accounts.models import Role, User
from marketplace.accounts.services import user_register


@pytest.mark.django_db(transaction=True)
def test_concurrent_signups_with_one_number_create_one_account(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    spellings = ["0933 111 222", "+84 933 111 222", "0933.111.222", "84933111222"]
    barrier = threading.Barrier(len(spellings))
    outcomes: list[str] = []

    def sign_up(phone: str) -> None:
        try:
            barrier.wait(timeout=10)
            user_register(
                phone=phone,
                password="a-long-password-1",
                full_name="Nguyễn Văn A",
                role=Role.BUYER,
                privacy_consent=True,
            )
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append("refused:" + ",".join(exc.message_dict))
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_up, args=(p,)) for p in spellings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes.count("created") == 1
    assert sorted(outcomes.count(o) for o in set(outcomes)) == [1, len(spellings) - 1]
    assert all(o in {"created", "refused:phone"} for o in outcomes)
    assert User.objects.filter(phone="+84933111222").count() == 1
