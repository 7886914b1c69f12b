"""Farms' entries in the personal data registry (`marketplace.accounts.personal_data`)."""

from django.urls import reverse

from marketplace.accounts.personal_data import (
    Kind,
    blank,
    elsewhere,
    keep,
    personal_data_exempt,
    personal_data_register,
)
from marketplace.accounts.personal_data_own import ACTOR, admin_log_register

from .models import Category, Certification, Farm, FarmDecision, HarvestLot, Product, ProductImage

FORGET_OWNER = (
    "farms.services.farm_forget_owner: wiped in the step that suspends the household and "
    "refreshes its listings' search columns"
)
AUDIT = "the verification audit: an official's decision and its reason are kept as a public record"


def register() -> None:
    personal_data_register(
        Farm,
        owner="owner",
        fields=[
            elsewhere("name", Kind.NAME, FORGET_OWNER),  # households are often named after a person
            elsewhere("representative_name", Kind.NAME, FORGET_OWNER),
            elsewhere("phone", Kind.PHONE, FORGET_OWNER),
            elsewhere("address", Kind.ADDRESS, FORGET_OWNER),
            # A keyed hash that finds duplicate IDs: of no use to the person, so not exported.
            elsewhere("cccd_hash", Kind.ID_NUMBER, FORGET_OWNER, exported=False),
            elsewhere("cccd_last4", Kind.ID_NUMBER, FORGET_OWNER),
        ],
        context=("ward", "area_m2", "main_crops", "cooperative", "status", "created_at"),
    )
    admin_log_register(Farm, owner="owner")
    personal_data_register(
        FarmDecision,
        owner="farm__owner",
        fields=[keep("reason", Kind.TEXT, AUDIT)],
        context=("action", "from_status", "to_status", "at"),
    )
    personal_data_exempt(FarmDecision, {"by": ACTOR})
    # Certificates name people: the file is private, and deleted with the account.
    personal_data_register(
        Certification,
        owner="farm__owner",
        fields=[blank("document", Kind.FILE), keep("reason", Kind.TEXT, AUDIT)],
        context=("kind", "number", "issuer", "issued_on", "expires_on", "status"),
        file_url=lambda certification, _name: reverse("certification-document", args=[certification.pk]),
    )
    personal_data_exempt(Certification, {"decided_by": ACTOR})
    personal_data_exempt(
        Product,
        {
            "name": "a listing's name, published in the catalogue",
            "description": "a listing's description, published in the catalogue",
            "search_name": "the listing's name, folded for search",
            "search_name_folded": "the listing's name, folded for search",
            "search_document": "the published listing and its household's name; farm_forget_owner "
            "refreshes it when the owner leaves, so the name goes with the household's",
        },
    )
    produce_photo = "a photo of produce, published, re-encoded without EXIF (no GPS, no camera)"
    personal_data_exempt(
        ProductImage, {"original": produce_photo, "thumb": produce_photo, "display": produce_photo}
    )
    personal_data_exempt(HarvestLot, {"practices": "farming practices, published on the lot's trace page"})
    personal_data_exempt(
        Category, {"name": "a seeded produce category", "name_en": "a seeded produce category"}
    )
