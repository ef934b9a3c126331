"""Static files are served by the app itself (whitenoise) with DEBUG off, after
``collectstatic``: hashed names, long cache lifetime, compressed copies."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client, override_settings

MANIFEST = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_collected_static_files_are_served_with_debug_off(tmp_path: Path) -> None:
    with override_settings(DEBUG=False, STATIC_ROOT=tmp_path, STORAGES=MANIFEST,
                           ALLOWED_HOSTS=["testserver"]):
        call_command("collectstatic", interactive=False, verbosity=0)
        url = static("web/handbill.css")
        assert url != "/static/web/handbill.css", "the name carries its content hash"
        assert list(tmp_path.glob("web/handbill.*.css.gz")), "a compressed copy is written"
        response = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200
        assert response["Content-Encoding"] == "gzip"
        assert "max-age=315360000" in response["Cache-Control"]
        assert Client().get("/static/web/nothing-here.css").status_code == 404
