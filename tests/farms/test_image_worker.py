"""A real Celery worker (its own process, prefork pool of one child) makes the sizes of a photo in
a decoding process of its own: a bomb planted in storage fails that photo, the pool's child lives
on, and the next photo is made.
"""

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction
from PIL import Image

from farms.models import ImageStatus, ProductImage
from farms.tasks import process_product_image
from marketplace.celery import app as celery_app
from marketplace.outbox.services import enqueue
from tests.conftest import REDIS_URL
from tests.orders.conftest import reference_data  # noqa: F401 (fixture: wards after a flush)
from tests.services import CeleryWorker, forget_broker_connections, wait_for

from .factories import make_farm, make_product

pytestmark = [pytest.mark.worker, pytest.mark.redis]


@pytest.fixture
def redis_queue(monkeypatch):
    keys = ["task_always_eager", "broker_url", "broker_transport_options", "task_default_queue"]
    saved = {key: celery_app.conf[key] for key in keys}
    monkeypatch.setenv("CELERY_BROKER_URL", REDIS_URL)
    queue = f"test-images-{uuid.uuid4().hex}"
    celery_app.conf.update(broker_url=REDIS_URL, task_default_queue=queue, task_always_eager=False)
    forget_broker_connections()
    yield queue
    celery_app.conf.update(saved)
    forget_broker_connections()


def _stored(product, mode, size, fmt) -> ProductImage:
    buffer = io.BytesIO()
    Image.new(mode, size, "green").save(buffer, fmt)
    with transaction.atomic():
        image = ProductImage(product=product)
        image.original.save(f"p.{fmt.lower()}", ContentFile(buffer.getvalue()), save=False)
        image.save()
        enqueue(process_product_image, image.pk)  # published when this commits
    return image


def test_a_real_worker_fails_the_planted_bomb_and_makes_the_next_photo(
    reference_data, transactional_db, redis_queue, make_user, settings, tmp_path  # noqa: F811
):
    product = make_product(make_farm(make_user))
    worker = CeleryWorker(
        connection=connection,
        broker_url=REDIS_URL,
        directory=tmp_path,
        queue=redis_queue,
        env={"MEDIA_ROOT": str(settings.MEDIA_ROOT), "OUTBOX_RELAY_SECONDS": "0"},
    )
    try:
        assert worker.ready(), worker.log()
        (child,) = worker.children()
        bomb = _stored(product, "RGBA", (6300, 6300), "PNG")  # ~160 KB, 160 MB to decode
        normal = _stored(product, "RGB", (2560, 1920), "JPEG")

        def settled():
            statuses = dict(ProductImage.objects.values_list("pk", "status"))
            return ImageStatus.PROCESSING not in statuses.values()

        assert wait_for(settled, seconds=60), worker.log()
        assert worker.children() == [child], worker.log()  # the same pool child: nothing died
    finally:
        worker.stop()
    bomb.refresh_from_db()
    normal.refresh_from_db()
    assert bomb.status == ImageStatus.FAILED and not bomb.display
    assert normal.status == ImageStatus.READY
    assert Image.open(normal.display.path).size == (1080, 810)
