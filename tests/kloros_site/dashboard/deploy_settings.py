"""The settings proposed in docs/OPERATOR.md for HTTPS deployments, on top of the real ones.

test_deploy_check runs `check --deploy` with this module to prove the proposal is enough.
"""

from kloros_site.env import env_bool, env_int
from kloros_site.settings import *  # noqa: F403

# --- HTTPS: KLR_HTTPS=true when the site is served over TLS (usually by a reverse proxy) -------
KLR_HTTPS = env_bool("KLR_HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", KLR_HTTPS)
# probes and Prometheus often speak plain HTTP inside the network
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if KLR_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", KLR_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# trust X-Forwarded-Proto only when a proxy that always sets it stands in front
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("KLR_BEHIND_PROXY", False) else None
# preloading into browsers' HSTS lists is a separate, hard-to-undo decision: opt in explicitly
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
