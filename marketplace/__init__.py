"""Chợ Nổi: the site that wires the domain apps together."""
from .celery import app as celery_app

__all__ = ("celery_app",)
