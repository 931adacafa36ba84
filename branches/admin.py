from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from branches.models import AuditEvent, Member, OrgImport, OrgUnit, RoleGrant, User


def _superuser_only(request) -> bool:  # type: ignore[no-untyped-def]
    # The admin is an ops tool for superusers only (style rule 20), not for staff roles.
    return bool(request.user.is_active and request.user.is_superuser)


admin.site.has_permission = _superuser_only  # type: ignore[method-assign]


@admin.register(User)
class AppUserAdmin(UserAdmin):
    list_display = ("username", "full_name", "is_active", "is_superuser", "last_login")
    search_fields = ("username", "full_name")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("单位信息", {"fields": ("full_name", "phone")}))


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "sort_order", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("path", "depth", "parent")
    list_select_related = ("parent",)


@admin.register(RoleGrant)
class RoleGrantAdmin(SimpleHistoryAdmin):
    list_display = ("user", "org", "role", "granted_at")
    list_filter = ("role",)
    search_fields = ("user__username", "org__code", "org__name")
    list_select_related = ("user", "org")
    raw_id_fields = ("user", "org", "granted_by")


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("name", "org", "category", "joined_on")
    search_fields = ("name", "org__code")
    list_select_related = ("org",)
    raw_id_fields = ("org", "user")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_username", "action", "ip_address", "target_type", "target_id")
    list_filter = ("action",)

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(OrgImport)
class OrgImportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "file_name", "status", "uploaded_by")
