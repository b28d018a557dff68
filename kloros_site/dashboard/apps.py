from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "kloros_site.dashboard"
    label = "dashboard"
    verbose_name = "Operator dashboard"
