"""A small carrier interface: book a shipment, cancel one not yet picked up.

The built-in carrier is the marketplace's own couriers (`OwnCouriers`: the shipment is a row
here, collected on runs). A third-party carrier would call its API in `book` and report its
steps through `logistics.services.shipment_step`. `settings.CARRIER` chooses one.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from .models import Shipment, ShipmentStatus


@dataclass(frozen=True)
class Stop:
    ward_code: str
    address: str
    name: str
    phone: str


@dataclass(frozen=True)
class ShipmentRequest:
    """What a booker asks to carry; `reference` is its own key (booking twice books once).

    `label` is what people read on the parcel (an order number), shown to couriers; the
    reference is a key and stays off their pages.
    """

    reference: str
    pickup: Stop
    dropoff: Stop
    weight_kg: Decimal
    cash_to_collect: int = 0
    deliver_on: date | None = None
    label: str = ""


class Carrier:
    code = ""

    def book(self, request: ShipmentRequest) -> Shipment:
        raise NotImplementedError

    def cancel(self, shipment: Shipment) -> None:
        raise NotImplementedError

    def set_cash_to_collect(self, shipment: Shipment, amount: int) -> None:
        """Change what the courier collects on a shipment not yet delivered."""
        raise NotImplementedError

    def forget_recipients(self, references: list[str]) -> int:
        """Blank the drop-off contacts (name, phone, address) of these bookings; return how many."""
        raise NotImplementedError


class OwnCouriers(Carrier):
    """The marketplace's couriers: a booked shipment waits for a collection run."""

    code = "own"

    def book(self, request: ShipmentRequest) -> Shipment:
        existing = Shipment.objects.filter(reference=request.reference).first()
        if existing is not None:
            return existing
        fields = {
            "carrier": self.code,
            "label": request.label[:64],
            "pickup_ward_id": request.pickup.ward_code,
            "pickup_address": request.pickup.address,
            "pickup_name": request.pickup.name,
            "pickup_phone": request.pickup.phone,
            "dropoff_ward_id": request.dropoff.ward_code,
            "dropoff_address": request.dropoff.address,
            "dropoff_name": request.dropoff.name,
            "dropoff_phone": request.dropoff.phone,
            "weight_kg": request.weight_kg,
            "cash_to_collect": request.cash_to_collect,
            "deliver_on": request.deliver_on,
        }
        try:
            with transaction.atomic():
                return Shipment.objects.create(reference=request.reference, **fields)
        except IntegrityError:
            return Shipment.objects.get(reference=request.reference)

    def cancel(self, shipment: Shipment) -> None:
        """Call off a shipment not picked up yet (a recorded step like any other); later ones stay."""
        from .services import shipment_step

        if Shipment.objects.filter(pk=shipment.pk, status=ShipmentStatus.BOOKED).exists():
            shipment_step(shipment=shipment, type=ShipmentStatus.CANCELLED, note="called off by the sender")

    def set_cash_to_collect(self, shipment: Shipment, amount: int) -> None:
        Shipment.objects.filter(
            pk=shipment.pk,
            status__in=[
                ShipmentStatus.BOOKED,
                ShipmentStatus.PICKED_UP,
                ShipmentStatus.IN_TRANSIT,
                ShipmentStatus.FAILED_ATTEMPT,
            ],
        ).update(cash_to_collect=amount)
        shipment.cash_to_collect = amount

    def forget_recipients(self, references: list[str]) -> int:
        return Shipment.objects.filter(reference__in=list(references)).update(
            dropoff_name="", dropoff_phone="", dropoff_address=""
        )


@cache
def _carrier_class(path: str):
    return import_string(path)


def carrier() -> Carrier:
    return _carrier_class(settings.CARRIER)()
