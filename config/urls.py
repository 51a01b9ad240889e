from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import views as core_views
from core.forms import AdminLoginForm
from reviews import views as review_views

handler403 = "core.views.permission_denied"
# The admin's login counts towards, and obeys, the same login rate limits as the login page.
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.health, name="health"),
    path("accounts/signup/", core_views.signup, name="signup"),
    path("accounts/login/", core_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    # A lead's invitation to a review: sign up (or log in) through the link and join.
    path("accounts/invitations/<str:token>/", review_views.invitation, name="invitation"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Each step's pages under /reviews/ (reporting first: /reviews/import/ is its page, not a
    # review's address).
    path("reviews/", include("reporting.urls")),
    path("reviews/", include("identification.urls")),
    path("reviews/", include("deduplication.urls")),
    path("reviews/<slug:slug>/screening/", include("screening.urls")),
    path("reviews/<slug:slug>/protocol/", include("reviews.protocol.urls")),
    path("reviews/<slug:slug>/extraction/", include("extraction.urls")),
    path("reviews/<slug:slug>/synthesis/", include("synthesis.urls")),
    path("reviews/", include("reviews.urls")),
    path("api/reviews/<slug:slug>/duplicates/", include("deduplication.api_urls")),
    path("api/reviews/<slug:slug>/screening/", include("screening.api_urls")),
    path("api/reviews/<slug:slug>/protocol/", include("reviews.protocol.api_urls")),
    path("api/reviews/<slug:slug>/extraction/", include("extraction.api_urls")),
    path("api/reviews/<slug:slug>/synthesis/", include("synthesis.api_urls")),
    path("api/", include("reporting.api_urls")),
    path("api/", include("identification.api_urls")),
    path("api/", include("reviews.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]
