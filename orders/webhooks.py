"""Payment webhooks (DESIGN.md house rule 8): raw body → verify signature → store the event id once →
enqueue → 200. The work happens in the `orders.process_webhook_event` task.
"""

import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.throttling import rate_limit_wait, too_many_attempts_message

from .payments import PaymentError
from .services.payments import webhook_receive

logger = logging.getLogger(__name__)


def _receive(request, method: str):
    try:
        event, created = webhook_receive(method=method, body=request.body, headers=request.headers)
    except PaymentError as exc:
        logger.warning("%s webhook refused: %s", method, exc.code)
        # Only calls failing verification count, so a genuine (signed) call is never limited.
        if exc.code == "invalid_signature" and (wait := rate_limit_wait(request, "webhook_invalid")):
            body = {"detail": too_many_attempts_message(wait), "code": "throttled"}
            response = JsonResponse(body, status=429)
            response["Retry-After"] = str(wait)
            return response
        return JsonResponse({"detail": "Invalid webhook.", "code": exc.code}, status=400)
    return JsonResponse({"received": True, "duplicate": not created, "id": event.event_id})


@csrf_exempt  # Stripe signs the body instead; nothing is written unless the signature holds
@require_POST
def stripe_webhook(request):
    return _receive(request, "stripe")


@csrf_exempt  # the bank sends a shared secret instead (VIETQR_WEBHOOK_SECRET)
@require_POST
def vietqr_webhook(request):
    return _receive(request, "vietqr")
