"""URL map. Browser pages of an organization live under `/o/<org>/…`, the API under `/api/v1/`."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from organizations.views import auth as organization_auth

from . import (
    converters,  # noqa: F401 - registers <id:…> before the apps' URLconfs are included
    views,
)

# The API answers its JSON error shape for unknown URLs and server errors too; a database outage
# answers 503 (portal.middleware).
handler404 = "portal.middleware.page_not_found"
handler500 = "portal.middleware.server_error"

admin.site.site_header = "Reseller Portal Support"
admin.site.site_title = "Reseller Portal Support"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("switch/", views.organization_switcher, name="organization-switcher"),
    path("o/<str:org>/menu/badges/", views.MenuBadgesView.as_view(), name="organization-menu-badges"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications-mark-read"),
    # accounts (PLT-1): login, logout, password change and reset
    path("accounts/login/", organization_auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/change/", organization_auth.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", organization_auth.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    # a newcomer given access chooses the password and is signed in (link valid like an invitation)
    path(
        "accounts/password/choose/<uidb64>/<token>/",
        organization_auth.AccountSetupView.as_view(),
        name="account-setup",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # apps
    path("", include("organizations.urls")),
    path("", include("projects.urls")),
    path("", include("delegations.urls")),
    path("", include("offers.urls")),
    path("", include("billing.urls")),
    path("", include("invoices.urls")),
    # API (PLT-2)
    path("api/v1/", include("portal.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    # Development serves the public uploads (logos) only; private files (invoice PDFs) live outside
    # MEDIA_ROOT and leave only through views that check access (portal/files.py).
    from .files import PUBLIC_MEDIA_FOLDER, public_media

    urlpatterns += [path(f"media/{PUBLIC_MEDIA_FOLDER}/<path:path>", public_media, name="public-media")]
