from django.urls import URLPattern

from campaigns.views import (
    campaigns,
    checklist,
    evidence,
    findings,
    inspections,
    items,
    notices,
    obligations,
    publishing,
    reminders,
    reports,
    review,
)

app_name = "campaigns"

urlpatterns: list[URLPattern] = [
    *campaigns.urlpatterns,
    *items.urlpatterns,
    *publishing.urlpatterns,
    *checklist.urlpatterns,
    *review.urlpatterns,
    *evidence.urlpatterns,
    *inspections.urlpatterns,
    *findings.urlpatterns,
    *notices.urlpatterns,
    *reports.urlpatterns,
    *reminders.urlpatterns,
    *obligations.urlpatterns,
]
