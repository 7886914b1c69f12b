"""Households: registration, edits, and the verification state machine."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_variables

from marketplace.accounts.language import speaking_to
from marketplace.accounts.models import Role
from marketplace.accounts.phone import normalize_phone
from marketplace.errors import Conflict
from marketplace.geo.models import Ward
from marketplace.notifications.services import notify

from ..cccd import cccd_clean, cccd_hash
from ..models import Farm, FarmAction, FarmDecision, FarmStatus
from ..search import product_search_refresh

#: Fields whose change sends a verified household back to review.
IDENTITY_FIELDS = ("name", "representative_name", "ward", "address", "cccd")
EDITABLE_FIELDS = (*IDENTITY_FIELDS, "phone", "area_m2", "main_crops", "cooperative")

# The verification state machine, as data: action -> (statuses it starts from, status it leads to).
TRANSITIONS = {
    FarmAction.APPROVED: ((FarmStatus.PENDING,), FarmStatus.VERIFIED),
    FarmAction.REJECTED: ((FarmStatus.PENDING,), FarmStatus.REJECTED),
    FarmAction.RESUBMITTED: ((FarmStatus.REJECTED,), FarmStatus.PENDING),
    FarmAction.IDENTITY_CHANGED: ((FarmStatus.VERIFIED,), FarmStatus.PENDING),
    FarmAction.SUSPENDED: ((FarmStatus.VERIFIED,), FarmStatus.SUSPENDED),
    FarmAction.REINSTATED: ((FarmStatus.SUSPENDED,), FarmStatus.VERIFIED),
}
REASON_REQUIRED = {FarmAction.REJECTED, FarmAction.SUSPENDED}

# What the household is told after each official decision, in its own language (Vietnamese).
_NOTICES = {
    FarmAction.APPROVED: (
        gettext_lazy("Your household is verified"),
        gettext_lazy("%(farm)s is verified. You can publish your listings now."),
    ),
    FarmAction.REJECTED: (
        gettext_lazy("Your household registration needs corrections"),
        gettext_lazy("%(farm)s was not verified: %(reason)s. Correct the details and resubmit."),
    ),
    FarmAction.SUSPENDED: (
        gettext_lazy("Your household is suspended"),
        gettext_lazy("%(farm)s is suspended and its listings are hidden: %(reason)s"),
    ),
    FarmAction.REINSTATED: (
        gettext_lazy("Your household is reinstated"),
        gettext_lazy("%(farm)s is selling again. Your listings are back in the catalogue."),
    ),
}


@sensitive_variables("fields", "value", "digits")
def _clean_fields(fields: dict, *, exclude_pk: int | None) -> dict:
    """Validate household fields; replace `cccd` by its hash and last four digits."""
    errors: dict[str, list] = {}
    cleaned = {}
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            continue
        if isinstance(value, str):
            value = value.strip()
        try:
            if name == "cccd":
                digits = cccd_clean(value)
                cleaned["cccd_hash"] = cccd_hash(digits)
                cleaned["cccd_last4"] = digits[-4:]
                continue
            if name == "ward" and not isinstance(value, Ward):
                value = Ward.objects.filter(pk=str(value or "")).first()
                if value is None:
                    raise ValidationError(_("Choose a ward or commune from the list."), code="invalid")
            elif name == "phone":
                value = normalize_phone(value)
            elif name in ("name", "representative_name", "address", "main_crops") and not value:
                raise ValidationError(_("This field is required."), code="required")
            elif name == "area_m2":
                value = _area(value)
            max_length = getattr(Farm._meta.get_field(name), "max_length", None)
            if max_length and isinstance(value, str) and len(value) > max_length:
                raise ValidationError(
                    _("At most %(max)s characters.") % {"max": max_length}, code="max_length"
                )
        except ValidationError as exc:
            errors[name] = exc.messages
            continue
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    if "cccd_hash" in cleaned:
        duplicate = Farm.objects.filter(cccd_hash=cleaned["cccd_hash"]).exclude(pk=exclude_pk)
        if duplicate.exists():
            raise _cccd_in_use()
    return cleaned


def _cccd_in_use() -> Conflict:
    return Conflict(
        _("A household with this citizen ID (CCCD) is already registered."), code="cccd_in_use", field="cccd"
    )


MAX_AREA_M2 = 2_000_000_000  # 200,000 ha: beyond any household, and within the column


def _area(value) -> int:
    try:
        area = int(str(value).strip())
    except (TypeError, ValueError):
        area = 0
    if not 0 < area <= MAX_AREA_M2:
        raise ValidationError(_("Enter the farm area in square metres (more than 0)."))
    return area


@sensitive_variables("cccd")
@transaction.atomic
def farm_register(
    *,
    owner,
    name: str,
    representative_name: str,
    phone: str,
    ward,
    address: str,
    area_m2: int,
    main_crops: str,
    cccd: str,
    cooperative: str = "",
) -> Farm:
    """Register the farmer's household; it waits for an official's verification."""
    if owner.role != Role.FARMER:
        raise ValidationError(_("Only farmer accounts can register a household."))
    # Lock the account row so two submissions at once cannot both pass the check.
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    if Farm.objects.filter(owner=owner).exists():
        raise Conflict(_("Your account already has a household."), code="farm_exists")
    cleaned = _clean_fields(
        {
            "name": name,
            "representative_name": representative_name,
            "phone": phone,
            "ward": ward,
            "address": address,
            "area_m2": area_m2,
            "main_crops": main_crops,
            "cooperative": cooperative or "",
            "cccd": cccd,
        },
        exclude_pk=None,
    )
    try:
        with transaction.atomic():
            farm = Farm.objects.create(owner=owner, status=FarmStatus.PENDING, **cleaned)
    except IntegrityError:
        raise _cccd_in_use() from None  # a registration with the same CCCD won the race
    FarmDecision.objects.create(
        farm=farm, action=FarmAction.SUBMITTED, from_status="", to_status=FarmStatus.PENDING, by=owner
    )
    return farm


@sensitive_variables("fields", "cleaned")
@transaction.atomic
def farm_update(*, farm: Farm, by, **fields) -> Farm:
    """Edit the household; changing a verified household's identity sends it back to review.

    A suspended household may not change its identity (it would slip out of the suspending
    official's wards and back in through another's); elsewhere the change is recorded.
    """
    farm = Farm.objects.select_for_update().get(pk=farm.pk)
    searched_before = (farm.name, farm.ward_id)  # catalogue search columns
    cleaned = _clean_fields(fields, exclude_pk=farm.pk)
    identity_changed = False
    for name, value in cleaned.items():
        current = getattr(farm, name)
        changed = farm.ward_id != getattr(value, "pk", value) if name == "ward" else current != value
        if changed and (name in IDENTITY_FIELDS or name in ("cccd_hash", "cccd_last4")):
            identity_changed = True
        setattr(farm, name, value)
    if identity_changed and farm.status == FarmStatus.SUSPENDED:
        raise Conflict(
            _("A suspended household cannot change its name, representative, ward, address or citizen ID."),
            code="invalid_status",
            status=farm.status,
        )
    try:
        with transaction.atomic():
            farm.save()
    except IntegrityError:
        raise _cccd_in_use() from None
    if (farm.name, farm.ward_id) != searched_before:  # catalogue search columns
        product_search_refresh(products=farm.products.all())
    if identity_changed and farm.status == FarmStatus.VERIFIED:
        farm = farm_transition(farm=farm, action=FarmAction.IDENTITY_CHANGED, by=by)
    elif identity_changed:
        FarmDecision.objects.create(
            farm=farm,
            action=FarmAction.IDENTITY_CHANGED,
            from_status=farm.status,
            to_status=farm.status,
            by=by,
        )
    return farm


@transaction.atomic
def farm_transition(*, farm: Farm, action: str, by, reason: str = "") -> Farm:
    """Move a household through the verification state machine and record who, when and why."""
    action = FarmAction(action)
    farm = Farm.objects.select_for_update().select_related("owner").get(pk=farm.pk)
    sources, target = TRANSITIONS[action]
    if farm.status not in sources:
        raise Conflict(
            _("This household is %(status)s: that step is not possible now.")
            % {"status": farm.get_status_display().lower()},
            code="invalid_status",
            status=farm.status,
        )
    reason = (reason or "").strip()
    if action in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": [_("Give the reason: the household will read it.")]})
    now = timezone.now()
    FarmDecision.objects.create(
        farm=farm, action=action, from_status=farm.status, to_status=target, by=by, reason=reason, at=now
    )
    farm.status = target
    farm.status_changed_at = now
    if target == FarmStatus.VERIFIED and farm.verified_at is None:
        farm.verified_at = now
    farm.save(update_fields=["status", "status_changed_at", "verified_at", "updated_at"])
    if action in _NOTICES:
        _tell_household(farm=farm, action=action, reason=reason)
    return farm


def _tell_household(*, farm: Farm, action: str, reason: str) -> None:
    subject, body = _NOTICES[action]
    # In the household's language (Vietnamese unless they chose English), not the official's.
    with speaking_to(farm.owner):
        notify(
            user=farm.owner,
            subject=str(subject),
            body=str(body) % {"farm": farm.name, "reason": reason},
            url=reverse("farms:dashboard"),
        )


def farm_decide(*, farm: Farm, by, decision: str, reason: str = "") -> Farm:
    """Approve or reject a pending household (an official's decision)."""
    action = {"approve": FarmAction.APPROVED, "reject": FarmAction.REJECTED}.get(decision)
    if action is None:
        raise ValidationError({"decision": [_("Choose approve or reject.")]})
    return farm_transition(farm=farm, action=action, by=by, reason=reason)


def farm_suspend(*, farm: Farm, by, reason: str) -> Farm:
    """Suspend a household: its listings leave the catalogue and checkout at once."""
    return farm_transition(farm=farm, action=FarmAction.SUSPENDED, by=by, reason=reason)


def farm_reinstate(*, farm: Farm, by, reason: str = "") -> Farm:
    return farm_transition(farm=farm, action=FarmAction.REINSTATED, by=by, reason=reason)


def farm_resubmit(*, farm: Farm, by) -> Farm:
    """Send a corrected, rejected household back to the verification queue."""
    return farm_transition(farm=farm, action=FarmAction.RESUBMITTED, by=by)


@transaction.atomic
def farm_forget_owner(*, user, **_signal_kwargs) -> None:
    """After the owner deletes the account: stop selling and wipe the household's personal data."""
    from ..models import Product, ProductStatus

    farm = Farm.objects.select_for_update().filter(owner=user).first()
    if farm is None:
        return
    Product.objects.filter(farm=farm).update(status=ProductStatus.ARCHIVED)
    if farm.status != FarmStatus.SUSPENDED:
        FarmDecision.objects.create(
            farm=farm,
            action=FarmAction.ACCOUNT_DELETED,
            from_status=farm.status,
            to_status=FarmStatus.SUSPENDED,
        )
    farm.status = FarmStatus.SUSPENDED
    farm.name = f"#{farm.pk}"
    farm.representative_name = ""
    farm.phone = ""
    farm.address = ""
    farm.cccd_hash = ""
    farm.cccd_last4 = ""
    farm.save()
    product_search_refresh(products=farm.products.all())  # the name leaves the search columns too
