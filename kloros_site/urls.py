from django.contrib import admin
from django.urls import path

from kloros_site.analysis import channel_pages
from kloros_site.dashboard import live, views

# settings install the admin as SimpleAdminConfig: the lists (kloros_site.analysis.admin, which
# imports the work pages) are registered here, by the processes that serve pages
admin.autodiscover()

admin.site.site_header = "KLoROS integration analyzer"
admin.site.site_title = "KLoROS"
admin.site.index_title = "Analyzer"
admin.site.site_url = "/dashboard/"
# the lists are wide (question text, evidence, tree); the sidebar would squeeze them
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", views.index, name="index"),
    path("favicon.ico", live.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("dashboard/", live.dashboard, name="dashboard"),
    path("dashboard/live", live.live, name="dashboard-live"),
    path("channels/", channel_pages.channel_list, name="channels"),
    path("channels/<int:tree_id>/<path:name>/", channel_pages.channel_detail, name="channel"),
    path("map/", channel_pages.channel_map, name="channel-map"),
    path("map.svg", channel_pages.channel_map_svg, name="channel-map-svg"),
    path("health", views.health, name="health"),
    path("metrics", views.metrics_view, name="metrics"),
    path("api/transitions", views.transitions, name="api-transitions"),
]
