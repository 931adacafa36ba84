from django.urls import path

from branches import inbox_views, notify_views, views

app_name = "branches"

urlpatterns = [
    path("orgs/", views.org_tree, name="org_tree"),
    path("orgs/list/", views.org_list, name="org_list"),
    path("orgs/<int:pk>/", views.org_detail, name="org_detail"),
    path("orgs/<int:pk>/children/", views.org_children, name="org_children"),
    path("orgs/import/", views.org_import, name="org_import"),
    path("orgs/import/template.xlsx", views.org_import_template, name="org_import_template"),
    path("orgs/import/<int:pk>/", views.org_import_detail, name="org_import_detail"),
    path("orgs/import/<int:pk>/errors.xlsx", views.org_import_errors, name="org_import_errors"),
    path("people/", views.people_list, name="people_list"),
    path("people/new/", views.person_create, name="person_create"),
    path("people/<int:pk>/", views.person_detail, name="person_detail"),
    path("people/<int:pk>/grants/", views.person_grant, name="person_grant"),
    path("people/<int:pk>/active/", views.person_set_active, name="person_set_active"),
    path("people/<int:pk>/password/", views.person_reset_password, name="person_reset_password"),
    path("people/grants/<int:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("audit/", views.audit_log, name="audit_log"),
    path("inbox/", inbox_views.inbox_list, name="inbox"),
    path("inbox/read-all/", inbox_views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/read/", inbox_views.message_read, name="message_read"),
    path(
        "notifications/preferences/",
        notify_views.notification_preferences,
        name="notification_preferences",
    ),
    path("orgs/<int:pk>/webhooks/", notify_views.org_webhooks, name="org_webhooks"),
    path("orgs/webhooks/<int:pk>/edit/", notify_views.webhook_edit, name="webhook_edit"),
    path("orgs/webhooks/<int:pk>/delete/", notify_views.webhook_delete, name="webhook_delete"),
    path("orgs/webhooks/<int:pk>/test/", notify_views.webhook_test, name="webhook_test"),
]
