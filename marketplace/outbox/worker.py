"""The relay runs in every Celery worker's main process, beside the consumer."""

from celery import bootsteps


class OutboxRelayStep(bootsteps.StartStopStep):
    """Start the outbox relay thread with the worker and stop it with the worker."""

    label = "outbox relay"

    def __init__(self, worker, **kwargs):
        self.relay = None
        super().__init__(worker, **kwargs)

    def include_if(self, worker):
        from django.conf import settings

        # A worker that runs tasks eagerly has no broker to relay to.
        return settings.OUTBOX_RELAY_SECONDS > 0 and not worker.app.conf.task_always_eager

    def start(self, worker):
        from .services import Relay

        self.relay = Relay()
        self.relay.start()

    def stop(self, worker):
        if self.relay is not None:
            self.relay.stop()
            self.relay = None

    # However the worker ends (warm, cold, or a test's controller), the thread ends with it.
    shutdown = terminate = stop
