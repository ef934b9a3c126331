"""/api/v1/ — the REST API (see handbill.api.api)."""

from django.urls import path

from handbill.api.api import api

urlpatterns = [path("", api.urls)]
