"""A ward's name as each language shows it."""

from django.utils import translation

from marketplace.geo.models import Ward


def test_a_ward_reads_phuong_in_vietnamese_and_ward_in_english(db):
    ward = Ward.objects.get(name="Cái Khế")
    with translation.override("vi"):
        assert ward.display_full_name == "Phường Cái Khế"
    with translation.override("en"):
        assert ward.display_full_name == "Cái Khế (Ward)"
    commune = Ward.objects.filter(type="xa").first()
    with translation.override("en"):
        assert commune.display_full_name == f"{commune.name} (Commune)"
