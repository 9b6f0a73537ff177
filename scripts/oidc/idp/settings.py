"""Settings of the throwaway OpenID Connect provider for the tests (django-oidc-provider).

Everything it keeps lives in OIDC_DIR (a SQLite database); OIDC_SITE_URL is the server's own
http://127.0.0.1:PORT, which fixes the issuer at OIDC_SITE_URL + "/openid" whatever Host header a
request carries. Loopback and plain http only: never expose it.
"""
import os
from pathlib import Path

DATA_DIR = Path(os.environ["OIDC_DIR"])
# Without it (manage.py commands that serve nothing) the issuer would be taken from the request.
SITE_URL = os.environ.get("OIDC_SITE_URL") or None

SECRET_KEY = "recordkeeper-test-provider-only"  # signs sessions of a loopback test server
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oidc_provider",
    "idp",  # the login and consent templates, and the management commands client and user
]
MIDDLEWARE = [
    "idp.oidc.log_requests",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "idp.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
}]
# Thrown away after the run: no waiting on the disk (the migrations alone waited ~1 s for it).
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "db.sqlite3"),
                         "OPTIONS": {"init_command": "PRAGMA synchronous=OFF"}}}
# A salted MD5 hash: each login checks a password, and PBKDF2's million rounds cost ~1 s each here.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Plain http on loopback: Django's defaults already leave the session and CSRF cookies non-secure
# (SameSite=Lax), which a top-level redirect from the relying party carries. Cookies ignore the
# port, so a relying party on 127.0.0.1 too shares this jar: names of the provider's own, lest a
# `sessionid` or `csrftoken` of one overwrite the other's.
SESSION_COOKIE_NAME = "oidc_provider_sessionid"
CSRF_COOKIE_NAME = "oidc_provider_csrftoken"
LOGIN_URL = "/accounts/login/"

# --- django-oidc-provider ---------------------------------------------------------------------
# The standard claims of the scopes asked for (profile: name, preferred_username, given_name,
# family_name, nickname; email: email, email_verified) go INTO THE ID TOKEN, not only /userinfo;
# idp.oidc.Claims adds `groups` (with profile or groups) to both.
OIDC_IDTOKEN_INCLUDE_CLAIMS = True
OIDC_USERINFO = "idp.oidc.userinfo"
OIDC_EXTRA_SCOPE_CLAIMS = "idp.oidc.Claims"
# Shown only when a consent page cannot be skipped (prompt=consent, or a client registered with
# require_consent): its Authorize button has id="authorize".
OIDC_TEMPLATES = {"authorize": "idp/authorize.html"}

# The server's log (DIR/server.log): one line a request, and oidc_provider's reasons for refusing
# one (a wrong redirect URI, code or code_verifier), which it logs at DEBUG only.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "oidc_provider": {"handlers": ["console"], "level": "DEBUG", "propagate": False},
        "idp": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
