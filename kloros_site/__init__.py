"""The Django project: settings, URLs, the Celery app (kloros_site.celery) and its apps."""
