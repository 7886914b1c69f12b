"""How logistics tells a higher app about its shipments without importing it (DESIGN.md layers).

`shipment_step_starting` is sent inside a step's transaction before the shipment's row is
locked, with `shipment`: a booker that locks its own rows first (orders locks the order) keeps
one lock order on every path — the booker's rows, then the shipment's — so a courier's step and
a booker's change to the same shipments queue instead of deadlocking.

`shipment_changed` is sent inside the transaction that records a shipment's step, with
`shipment` and `event` (a `ShipmentEvent`); a receiver that raises rolls the step back.
"""

from django.dispatch import Signal

shipment_step_starting = Signal()
shipment_changed = Signal()
