from django.contrib import admin
from django.urls import include, path

from branches import views as branch_views
from campaigns.views import workbench

admin.site.site_header = "模范机关创建 · 运维管理"
admin.site.site_title = "模范机关创建"

urlpatterns = [
    path("", workbench.home, name="home"),
    path("healthz", branch_views.healthz, name="healthz"),
    path("accounts/login/", branch_views.login_view, name="login"),
    path("accounts/logout/", branch_views.logout_view, name="logout"),
    path("accounts/password/", branch_views.password_change_view, name="password_change"),
    path("accounts/password/done/", branch_views.password_change_done_view, name="password_change_done"),
    path("", include("branches.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("rating/", include("scoring.urls")),
    # The Django admin is an ops tool for superusers (style rule 20).
    path("admin/", admin.site.urls),
]

handler403 = "django.views.defaults.permission_denied"
handler404 = "django.views.defaults.page_not_found"
