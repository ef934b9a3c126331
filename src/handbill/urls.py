"""Site URLs: the browser app at the root, Django's admin for setup data under /admin/.

Later areas (the REST API under /api/v1/, …) add their include() here.
"""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("handbill.api.urls")),
    path("", include("handbill.web.urls")),
]
