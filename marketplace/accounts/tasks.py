from celery import shared_task

from .services import password_reset_codes_purge


@shared_task(name="accounts.purge_expired_reset_codes")
def purge_expired_reset_codes() -> int:
    return password_reset_codes_purge()
