"""The Django project: settings, URLs, the Celery app (kloros_site.celery) and its apps."""

from kloros_site.kombu_filesystem import install as _install_filesystem_transport

# every process of the project (workers, watcher, web, bus subscribers) reaches the embedded
# broker through the transport that writes whole messages
_install_filesystem_transport()
