"""The operator surfaces' fixtures for every test under this folder."""

from tests.kloros_site.dashboard.operator_rows import live_workers, plain_static_storage, worker_probe

__all__ = ["live_workers", "plain_static_storage", "worker_probe"]
