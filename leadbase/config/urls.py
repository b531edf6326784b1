from django.contrib import admin
from django.urls import include, path

from leadbase.config.api import api
from leadbase.core.views import healthz

urlpatterns = [
    path("", include("leadbase.leads.urls")),
    path("capture/", include("leadbase.capture.urls")),
    path("scoring/", include("leadbase.scoring.urls")),
    path("f/", include("leadbase.capture.urls_public")),
    path("hooks/", include("leadbase.capture.urls_hooks")),
    path("t/", include("leadbase.tracking.urls")),
    path("accounts/", include("leadbase.accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", healthz, name="healthz"),
]
