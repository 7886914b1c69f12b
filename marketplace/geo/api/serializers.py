from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Ward
from ..selectors import alias_labels


class WardSerializer(serializers.ModelSerializer):
    aliases = serializers.SerializerMethodField()

    class Meta:
        model = Ward
        fields = ["code", "name", "full_name", "type", "aliases"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_aliases(self, ward: Ward) -> list[str]:
        return alias_labels(ward)
