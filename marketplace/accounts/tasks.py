from celery import shared_task

from .codes import phone_code_send, phone_codes_purge
from .models import PhoneVerification, User
from .services import account_change_tell, password_reset_codes_purge, password_reset_send


@shared_task(name="accounts.purge_expired_reset_codes")
def purge_expired_reset_codes() -> int:
    return password_reset_codes_purge() + phone_codes_purge()


@shared_task(name="accounts.send_password_reset")
def send_password_reset(phone: str) -> str | None:
    return password_reset_send(phone=phone)


@shared_task(name="accounts.send_phone_code")
def send_phone_code(verification_id: int) -> bool:
    verification = PhoneVerification.objects.filter(pk=verification_id).first()
    return verification is not None and phone_code_send(verification=verification)


@shared_task(name="accounts.tell_account_changed")
def tell_account_changed(user_id: int, change: str, phone: str, email: str) -> None:
    user = User.objects.filter(pk=user_id).first()
    if user is not None:
        account_change_tell(user=user, change=change, phone=phone, email=email)
