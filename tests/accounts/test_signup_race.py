"""One sign-up code entered twice at the same moment: exactly one account, one clear error."""
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from marketplace.accounts.codes import signup_confirm, signup_request
from marketplace.accounts.models import Role, User
from tests.signup import texted_code


@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmations_of_one_sign_up_create_one_account(settings, sms_outbox):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    key = signup_request(
        phone="0933 111 222",
        password="a-long-password-1",
        full_name="Nguyễn Văn A",
        role=Role.BUYER,
        privacy_consent=True,
    )
    code = texted_code(sms_outbox, "0933111222")
    tries = 4
    barrier = threading.Barrier(tries)
    outcomes: list[str] = []

    def confirm() -> None:
        try:
            barrier.wait(timeout=10)
            signup_confirm(key=key, code=code)
            outcomes.append("created")
        except ValidationError as exc:
            outcomes.append("refused:" + ",".join(exc.message_dict))
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(tries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert outcomes.count("created") == 1
    assert outcomes.count("refused:code") == tries - 1
    assert User.objects.filter(phone="+84933111222").count() == 1
