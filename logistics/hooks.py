"""How logistics tells a higher app about its shipments without importing it (DESIGN.md layers).

`shipment_changed` is sent inside the transaction that records a shipment's step, with
`shipment` and `event` (a `ShipmentEvent`); a receiver that raises rolls the step back.
"""

from django.dispatch import Signal

shipment_changed = Signal()
