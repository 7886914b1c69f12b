from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..models import Notification
from ..selectors import notification_unread_count, notifications_for_user


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "subject", "body", "url", "created_at", "read_at"]
        read_only_fields = fields


class NotificationListView(generics.ListAPIView):
    """The user's in-app notifications, newest first."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        return notifications_for_user(user=self.request.user)


class UnreadCountView(APIView):
    @extend_schema(
        responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})
    )
    def get(self, request):
        return Response({"unread": notification_unread_count(user=request.user)})


class NotificationReadView(APIView):
    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request, pk: int):
        # Scoped to the user: someone else's notification is a 404.
        notification = get_object_or_404(notifications_for_user(user=request.user), pk=pk)
        services.notification_mark_read(notification=notification)
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.notifications_mark_all_read(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
