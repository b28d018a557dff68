from django.contrib import admin
from django.urls import path

from kloros_site.dashboard import views

admin.site.site_header = "KLoROS integration analyzer"
admin.site.site_title = "KLoROS"
admin.site.index_title = "Analyzer"
admin.site.site_url = "/dashboard/"
# the lists are wide (question text, evidence, tree); the sidebar would squeeze them
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", views.index, name="index"),
    path("admin/", admin.site.urls),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("health", views.health, name="health"),
    path("metrics", views.metrics_view, name="metrics"),
    path("api/transitions", views.transitions, name="api-transitions"),
]
