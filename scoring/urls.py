from django.urls import URLPattern

from scoring.views import dashboard, exports, ratings, rounds, schemes, simulate

app_name = "scoring"

urlpatterns: list[URLPattern] = [
    *rounds.urlpatterns,
    *ratings.urlpatterns,
    *schemes.urlpatterns,
    *simulate.urlpatterns,
    *exports.urlpatterns,
    *dashboard.urlpatterns,
]
