"""Logistics' entries in the personal data registry (`marketplace.accounts.personal_data`).

A shipment's contacts are the buyer's and the household's: orders registers them (logistics
cannot tell whose they are). Here: the couriers' own records and the fields that only look personal.
"""

from marketplace.accounts.personal_data import Kind, keep, personal_data_exempt, personal_data_register
from marketplace.accounts.personal_data_own import ACTOR

from .models import CashHandover, Run, ShipmentEvent, Zone

CASH = "a record of cash handed in (the courier's accounts with the marketplace), kept for the books"


def register() -> None:
    personal_data_register(
        CashHandover,
        owner="courier",
        fields=[keep("note", Kind.TEXT, CASH)],
        context=("amount", "at"),
    )
    personal_data_exempt(CashHandover, {"received_by": ACTOR})
    personal_data_exempt(Run, {"courier": ACTOR})
    personal_data_exempt(ShipmentEvent, {"by": ACTOR})
    personal_data_exempt(
        Zone,
        {
            "name": "a delivery zone's name",
            "name_en": "a delivery zone's name",
            "couriers": "which couriers work a zone: a work assignment",
        },
    )
