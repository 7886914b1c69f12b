from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny

from ..selectors import ward_list, wards_for_query
from .serializers import WardSerializer


@extend_schema(
    parameters=[
        OpenApiParameter(
            "q",
            str,
            description=(
                "A name people type, current or former, with or without accents or a type word "
                '("phong dien", "Huyện Phong Điền", "an hoa"), or a 5-digit ward code.'
            ),
        )
    ]
)
class WardListView(ListAPIView):
    """All 103 wards and communes of Cần Thơ with their former names, as one unpaginated list."""

    permission_classes = [AllowAny]
    pagination_class = None
    serializer_class = WardSerializer

    def get_queryset(self):
        query = self.request.query_params.get("q", "").strip()
        return wards_for_query(query=query) if query else ward_list()
