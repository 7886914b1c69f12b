"""Logistics API shapes: runs with their stops, shipments with their events."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import ShipmentStatus


class StopWardSerializer(serializers.Serializer):
    code = serializers.CharField(source="pk", read_only=True)
    name = serializers.CharField(read_only=True)


class StopSerializer(serializers.Serializer):
    """A pickup or drop-off. Names, phones and addresses only for the run's courier and staff."""

    ward = StopWardSerializer(read_only=True)
    address = serializers.CharField(read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True, allow_null=True)
    phone = serializers.CharField(read_only=True, allow_null=True)


class ShipmentEventSerializer(serializers.Serializer):
    type = serializers.CharField(read_only=True)
    type_label = serializers.CharField(source="get_type_display", read_only=True)
    at = serializers.DateTimeField(read_only=True)
    cash_collected = serializers.IntegerField(read_only=True, allow_null=True)
    note = serializers.CharField(read_only=True)


def _stop(shipment, side: str, *, private: bool) -> dict:
    return {
        "ward": getattr(shipment, f"{side}_ward"),
        "address": None if private else getattr(shipment, f"{side}_address"),
        "name": None if private else getattr(shipment, f"{side}_name"),
        "phone": None if private else getattr(shipment, f"{side}_phone"),
    }


class ShipmentSerializer(serializers.Serializer):
    """A shipment as its courier sees it. `context["private"]` hides who and where (a run not yet claimed)."""

    id = serializers.IntegerField(read_only=True)
    reference = serializers.CharField(read_only=True)
    run = serializers.IntegerField(source="run_id", read_only=True, allow_null=True)
    status = serializers.CharField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    pickup = serializers.SerializerMethodField()
    dropoff = serializers.SerializerMethodField()
    weight_kg = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    cash_to_collect = serializers.IntegerField(read_only=True)
    cash_collected = serializers.IntegerField(read_only=True)
    failed_attempts = serializers.IntegerField(read_only=True)
    deliver_on = serializers.DateField(read_only=True, allow_null=True)

    def _private(self) -> bool:
        return bool(self.context.get("private"))

    def get_pickup(self, shipment) -> StopSerializer:
        return StopSerializer(_stop(shipment, "pickup", private=self._private())).data

    def get_dropoff(self, shipment) -> StopSerializer:
        return StopSerializer(_stop(shipment, "dropoff", private=self._private())).data


class ShipmentDetailSerializer(ShipmentSerializer):
    events = ShipmentEventSerializer(many=True, read_only=True)


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    date = serializers.DateField(read_only=True)
    number = serializers.IntegerField(read_only=True)
    zone = serializers.SerializerMethodField()
    courier = serializers.IntegerField(source="courier_id", read_only=True, allow_null=True)
    shipments = serializers.IntegerField(source="shipment_count", read_only=True)
    done = serializers.IntegerField(source="done_count", read_only=True)

    def get_zone(self, run) -> dict:
        return {"id": run.zone_id, "name": run.zone.label}


class RunDetailSerializer(RunSerializer):
    """A run with its stops in route order: pickups, then drop-offs."""

    pickups = serializers.SerializerMethodField()
    dropoffs = serializers.SerializerMethodField()

    def get_pickups(self, run) -> ShipmentSerializer(many=True):
        return ShipmentSerializer(run.pickups, many=True, context=self.context).data

    def get_dropoffs(self, run) -> ShipmentSerializer(many=True):
        return ShipmentSerializer(run.dropoffs, many=True, context=self.context).data


COURIER_STEPS = [
    ShipmentStatus.PICKED_UP,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.DELIVERED,
    ShipmentStatus.FAILED_ATTEMPT,
    ShipmentStatus.RETURNED,
]


class ShipmentEventInputSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=[(step.value, step.label) for step in COURIER_STEPS],
        error_messages={
            "invalid_choice": _("Choose picked_up, in_transit, delivered, failed_attempt or returned.")
        },
    )
    cash_collected = serializers.IntegerField(
        required=False, min_value=0, help_text=_("Cash collected on delivery, in đồng.")
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)
