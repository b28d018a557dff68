from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "kloros_site.analysis"
    label = "analysis"
    verbose_name = "Integration analysis"
