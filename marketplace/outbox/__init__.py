"""The transactional outbox: a task is recorded in the same transaction as the change that needs it.

`enqueue(task, *args)` writes a row; once the transaction commits the row is published to the
broker at once, and when that fails (the broker is down) the relay inside every Celery worker
publishes it later. A task is therefore never lost with its transaction, and never published for
a transaction that rolled back. Delivery is at least once: tasks stay safe to run twice.
"""
