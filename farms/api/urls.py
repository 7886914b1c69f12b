"""Farms API under /api/v1/."""

urlpatterns = []
