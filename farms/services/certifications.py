"""Certificates: upload, an official's decision, and the daily expiry sweep."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace.accounts.language import speaking_to
from marketplace.errors import Conflict
from marketplace.notifications.services import notify

from ..images import clean_document
from ..models import Certification, CertificationKind, CertificationStatus, Farm


def _validate(*, kind, ocop_stars, number, issuer, issued_on, expires_on) -> dict:
    errors: dict[str, list] = {}
    if kind not in CertificationKind.values:
        errors["kind"] = [_("Choose VietGAP, GlobalGAP, organic or OCOP.")]
    if kind == CertificationKind.OCOP:
        if ocop_stars not in (3, 4, 5):
            errors["ocop_stars"] = [_("An OCOP certificate has 3, 4 or 5 stars.")]
    else:
        ocop_stars = None
    if not (number or "").strip():
        errors["number"] = [_("Enter the certificate number.")]
    if not (issuer or "").strip():
        errors["issuer"] = [_("Enter who issued the certificate.")]
    for field, value in (("number", number), ("issuer", issuer)):
        limit = Certification._meta.get_field(field).max_length
        if len(value or "") > limit:
            errors[field] = [_("At most %(max)s characters.") % {"max": limit}]
    if issued_on and expires_on and expires_on < issued_on:
        errors["expires_on"] = [_("The expiry date comes before the issue date.")]
    if issued_on and issued_on > timezone.localdate():
        errors["issued_on"] = [_("The issue date is in the future.")]
    if errors:
        raise ValidationError(errors)
    return {
        "kind": kind,
        "ocop_stars": ocop_stars,
        "number": number.strip(),
        "issuer": issuer.strip(),
        "issued_on": issued_on,
        "expires_on": expires_on,
    }


@transaction.atomic
def certification_create(
    *,
    farm: Farm,
    kind: str,
    number: str,
    issuer: str,
    issued_on: date,
    expires_on: date,
    document,
    ocop_stars: int | None = None,
) -> Certification:
    """Add a certificate (image or PDF); it waits for an official's verification."""
    fields = _validate(
        kind=kind,
        ocop_stars=ocop_stars,
        number=number,
        issuer=issuer,
        issued_on=issued_on,
        expires_on=expires_on,
    )
    try:
        cleaned = clean_document(document)
    except ValidationError as exc:
        raise ValidationError({"document": exc.messages}) from None
    certification = Certification(farm=farm, document_type=cleaned.content_type, **fields)
    certification.document.save(f"c{farm.pk}.{cleaned.extension}", ContentFile(cleaned.content), save=False)
    certification.save()
    return certification


def certification_delete(*, certification: Certification) -> None:
    """Withdraw a certificate that is still pending or was rejected; decided ones stay on record."""
    if certification.status not in (CertificationStatus.PENDING, CertificationStatus.REJECTED):
        raise Conflict(
            _("This certificate has been verified: it stays on record and cannot be deleted."),
            code="invalid_status",
            status=certification.status,
        )
    name, storage = certification.document.name, certification.document.storage
    certification.delete()
    transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def certification_decide(
    *, certification: Certification, by, decision: str, reason: str = ""
) -> Certification:
    """Verify or reject a pending certificate (an official's decision); tell the household."""
    if decision not in ("approve", "reject"):
        raise ValidationError({"decision": [_("Choose approve or reject.")]})
    reason = (reason or "").strip()
    if decision == "reject" and not reason:
        raise ValidationError({"reason": [_("Give the reason: the household will read it.")]})
    certification = (
        Certification.objects.select_for_update().select_related("farm__owner").get(pk=certification.pk)
    )
    if certification.status != CertificationStatus.PENDING:
        raise Conflict(
            _("This certificate has already been decided."),
            code="invalid_status",
            status=certification.status,
        )
    if decision == "approve" and certification.expires_on < timezone.localdate():
        raise Conflict(_("This certificate has expired: it cannot be verified."), code="certificate_expired")
    certification.status = (
        CertificationStatus.VERIFIED if decision == "approve" else CertificationStatus.REJECTED
    )
    certification.decided_by = by
    certification.decided_at = timezone.now()
    certification.reason = reason
    certification.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    with speaking_to(certification.farm.owner):
        if decision == "approve":
            subject = _("Certificate verified: %(badge)s") % {"badge": certification.badge}
            body = _("Your %(badge)s certificate %(number)s is verified. Its badge shows on your listings.")
        else:
            subject = _("Certificate not verified: %(badge)s") % {"badge": certification.badge}
            body = _("Your %(badge)s certificate %(number)s was not verified: %(reason)s")
        notify(
            user=certification.farm.owner,
            subject=subject,
            body=body % {"badge": certification.badge, "number": certification.number, "reason": reason},
            url=reverse("farms:dashboard"),
        )
    return certification


def certifications_expire(*, today: date | None = None) -> dict:
    """Expire certificates past their date and warn households ahead of it (once each).

    Run daily; each change is a conditional UPDATE, so a second run the same day does nothing.
    """
    today = today or timezone.localdate()
    notice_day = today + timedelta(days=settings.CERTIFICATE_EXPIRY_NOTICE_DAYS)
    expired = warned = 0
    due = Certification.objects.select_related("farm__owner").filter(
        status=CertificationStatus.VERIFIED, expires_on__lt=today
    )
    for certification in due:
        with transaction.atomic():
            changed = Certification.objects.filter(
                pk=certification.pk, status=CertificationStatus.VERIFIED
            ).update(status=CertificationStatus.EXPIRED)
            if changed:
                expired += 1
                _tell(
                    certification,
                    gettext_noop("Certificate expired: %(badge)s"),
                    gettext_noop(
                        "Your %(badge)s certificate %(number)s expired on %(date)s. Its badge no longer "
                        "shows; add the renewed certificate."
                    ),
                )
    soon = Certification.objects.select_related("farm__owner").filter(
        status=CertificationStatus.VERIFIED,
        expires_on__gte=today,
        expires_on__lte=notice_day,
        expiry_notice_sent_at__isnull=True,
    )
    for certification in soon:
        with transaction.atomic():
            changed = Certification.objects.filter(
                pk=certification.pk, expiry_notice_sent_at__isnull=True
            ).update(expiry_notice_sent_at=timezone.now())
            if changed:
                warned += 1
                _tell(
                    certification,
                    gettext_noop("Certificate expires soon: %(badge)s"),
                    gettext_noop(
                        "Your %(badge)s certificate %(number)s expires on %(date)s. Renew it and add the "
                        "new certificate to keep the badge."
                    ),
                )
    return {"expired": expired, "warned": warned}


def _tell(certification: Certification, subject: str, body: str) -> None:
    from django.utils.formats import date_format

    with speaking_to(certification.farm.owner):
        values = {
            "badge": certification.badge,
            "number": certification.number,
            "date": date_format(certification.expires_on, "SHORT_DATE_FORMAT"),
        }
        notify(
            user=certification.farm.owner,
            subject=_(subject) % values,
            body=_(body) % values,
            url=reverse("farms:dashboard"),
        )
