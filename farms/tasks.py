from celery import shared_task

from .models import ProductImage
from .services import certifications_expire, product_image_process


@shared_task(name="farms.process_product_image", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def process_product_image(image_id: int) -> bool:
    image = ProductImage.objects.filter(pk=image_id).first()
    if image is None:
        return False  # deleted before the worker got to it
    product_image_process(image=image)
    return True


@shared_task(name="farms.expire_certifications")
def expire_certifications() -> dict:
    return certifications_expire()
