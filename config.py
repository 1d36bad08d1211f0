"""Configuration classes. Every setting comes from the environment (see README)."""

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PORTAL_INSTANCE_DIR", BASE_DIR / "instance"))


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _persistent_secret_key():
    """SECRET_KEY from the environment, else one generated once and kept in instance/.

    Keeping it on disk means sessions survive restarts; several processes on one
    machine read the same file (the first writer wins, the others read it back).
    """
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _normalise_database_url(url):
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


UPSTREAM_DEFAULTS = {
    "PUBMED": "https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
    "EUROPEPMC": "https://www.ebi.ac.uk/europepmc/webservices/rest",
    "CROSSREF": "https://api.crossref.org",
    "CLINICALTRIALS": "https://clinicaltrials.gov/api/v2",
    "OPENALEX": "https://api.openalex.org",
    # Read only by the clinical-guidelines catalogue sync (portal/search/guidelines), never while searching.
    "MINZDRAV": "https://apicr.minzdrav.gov.ru",
}


class Config:
    SECRET_KEY = None  # resolved in __init__ so importing config never touches the disk
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    REDIS_URL = None
    # After Redis failed to answer, requests leave it alone this long before trying it again.
    REDIS_RETRY_SECONDS = 5
    # A database that does not answer costs a request at most about this long, then the portal
    # answers 503 (SPEC: within 10 s). SQLite: how long a writer waits for the write lock.
    DB_CONNECT_TIMEOUT_SECONDS = 4
    DB_STATEMENT_TIMEOUT_SECONDS = 8
    DB_POOL_TIMEOUT_SECONDS = 4

    # Sessions: room computers are shared, so sessions are short-lived and idle ones end.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    IDLE_TIMEOUT_MINUTES = 15

    HSTS_SECONDS = 0  # Strict-Transport-Security max-age; set in production only

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session, which is short anyway

    # werkzeug's hash method for passwords. Stored hashes name their method, so changing it only
    # affects passwords set from then on.
    PASSWORD_HASH_METHOD = "scrypt"

    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = "Europe/Moscow"
    LANGUAGES = ("ru", "en")

    # Sign-in limits: failures only; successful sign-ins are never counted.
    SIGNIN_MAX_FAILURES_PER_ACCOUNT = 5
    SIGNIN_FAILURE_WINDOW_SECONDS = 15 * 60
    SIGNIN_FAILURES_PER_ADDRESS = "30 per minute"
    # Browsers where an account signed in before are trusted for it (portal/auth/devices.py).
    DEVICE_COOKIE_NAME = "device"
    DEVICE_COOKIE_DAYS = 365
    # A signed-in browser session ends after this long whatever happens, besides ending when idle.
    SESSION_LIFETIME_HOURS = 12
    # Rate-limit headers would cost two more storage round trips on every limited request.
    RATELIMIT_HEADERS_ENABLED = False
    # Redis unreachable: count per process instead, and go back to Redis when it answers.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    SEARCH_RATE_LIMIT = "60 per minute"

    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_DEFAULT_SENDER = "portal@localhost"
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None

    PORTAL_CONTACT_EMAIL = None
    PORTAL_NCBI_API_KEY = None
    PORTAL_OPENALEX_API_KEY = None
    SEARCH_SOURCE_BUDGET_SECONDS = 8.0
    SEARCH_TOTAL_BUDGET_SECONDS = 10.0
    SEARCH_CACHE_SECONDS = 600
    # Usage rows are written in batches (portal/search/usage.py): at least this often, or at this many rows.
    SEARCH_USAGE_FLUSH_SECONDS = 10
    SEARCH_USAGE_BATCH_ROWS = 500
    # A clinic's linked sources and link prefix, kept by each process (portal/search/services.py).
    SEARCH_SETTINGS_CACHE_SECONDS = 30
    # The clinical-guidelines catalogue (portal/search/guidelines): synced once a day, one page at a
    # time with a pause between pages; the search page warns when the catalogue is older than this.
    GUIDELINES_SYNC_INTERVAL_HOURS = 24
    GUIDELINES_SYNC_RETRY_MINUTES = 60
    GUIDELINES_SYNC_PAGE_SIZE = 100
    GUIDELINES_SYNC_PAUSE_SECONDS = 2.0
    GUIDELINES_SYNC_PAGE_TIMEOUT_SECONDS = 60.0
    GUIDELINES_STALE_AFTER_HOURS = 72
    # Each process keeps the catalogue's load time this long (portal/search/guidelines/catalogue.py).
    GUIDELINES_STATUS_CACHE_SECONDS = 30

    # Sign-in with the city's OpenID Connect provider: shown only when the issuer is set.
    OIDC_ISSUER = None
    OIDC_CLIENT_ID = None
    OIDC_CLIENT_SECRET = None
    OIDC_SCOPES = "openid email profile"
    OIDC_CLAIM_EMAIL = "email"
    OIDC_CLAIM_NAME = "name"
    OIDC_CLAIM_CLINIC = "clinic_code"
    OIDC_TIMEOUT_SECONDS = 10
    # "everyone": the local form for all; "staff": doctors sign in with the city account only
    # (the local form stays, folded away, for invited trainers and the portal's staff).
    LOCAL_SIGN_IN = "everyone"

    BOOKING_HISTORY_RETENTION_DAYS = 365 * 3
    # Request bodies above this are refused with 413 before they are read.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Check every API answer against its documented schema (the test suite does; a mismatch is a 500 there).
    API_VALIDATE_RESPONSES = False
    PORTAL_BASE_URL = "http://127.0.0.1:5000"
    LOG_REQUESTS = True

    def __init__(self):
        env = os.environ
        self.SECRET_KEY = _persistent_secret_key()
        default_db = "sqlite:///" + str(INSTANCE_DIR / "portal.sqlite3")
        self.SQLALCHEMY_DATABASE_URI = _normalise_database_url(env.get("DATABASE_URL") or default_db)
        self.REDIS_URL = env.get("REDIS_URL") or None
        for name in ("DB_CONNECT_TIMEOUT_SECONDS", "DB_STATEMENT_TIMEOUT_SECONDS", "DB_POOL_TIMEOUT_SECONDS"):
            setattr(self, name, _env_int(f"PORTAL_{name}", getattr(self, name)))
        self.IDLE_TIMEOUT_MINUTES = _env_int("PORTAL_IDLE_TIMEOUT_MINUTES", self.IDLE_TIMEOUT_MINUTES)
        self.SESSION_LIFETIME_HOURS = _env_int("PORTAL_SESSION_LIFETIME_HOURS", self.SESSION_LIFETIME_HOURS)
        self.SESSION_COOKIE_SECURE = env.get("PORTAL_SECURE_COOKIES", "") == "1"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.MAIL_SERVER = env.get("MAIL_SERVER") or None
        self.MAIL_PORT = _env_int("MAIL_PORT", self.MAIL_PORT)
        self.MAIL_DEFAULT_SENDER = env.get("MAIL_DEFAULT_SENDER") or self.MAIL_DEFAULT_SENDER
        self.MAIL_USE_TLS = env.get("MAIL_USE_TLS", "") == "1"
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.PORTAL_CONTACT_EMAIL = env.get("PORTAL_CONTACT_EMAIL") or None
        self.PORTAL_NCBI_API_KEY = env.get("PORTAL_NCBI_API_KEY") or None
        self.PORTAL_OPENALEX_API_KEY = env.get("PORTAL_OPENALEX_API_KEY") or None
        self.PORTAL_BASE_URL = env.get("PORTAL_BASE_URL") or self.PORTAL_BASE_URL
        self.BOOKING_HISTORY_RETENTION_DAYS = _env_int(
            "PORTAL_BOOKING_RETENTION_DAYS", self.BOOKING_HISTORY_RETENTION_DAYS
        )
        self.MAX_CONTENT_LENGTH = _env_int("PORTAL_MAX_CONTENT_LENGTH", self.MAX_CONTENT_LENGTH)
        self.LOG_REQUESTS = env.get("PORTAL_LOG_REQUESTS", "1") == "1" and self.LOG_REQUESTS
        # Behind a reverse proxy: how many proxies set X-Forwarded-For (the client's address matters
        # for the per-address sign-in limit).
        self.PROXY_COUNT = _env_int("PORTAL_PROXY_COUNT", 0)
        self.SEARCH_RATE_LIMIT = env.get("PORTAL_SEARCH_RATE_LIMIT") or self.SEARCH_RATE_LIMIT
        for name in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "SCOPES", "CLAIM_EMAIL", "CLAIM_NAME", "CLAIM_CLINIC"):
            setattr(self, f"OIDC_{name}", env.get(f"PORTAL_OIDC_{name}") or getattr(self, f"OIDC_{name}"))
        self.LOCAL_SIGN_IN = env.get("PORTAL_LOCAL_SIGN_IN") or self.LOCAL_SIGN_IN
        if self.LOCAL_SIGN_IN not in ("everyone", "staff"):
            raise ValueError("PORTAL_LOCAL_SIGN_IN must be 'everyone' or 'staff'")
        self.SEARCH_USAGE_FLUSH_SECONDS = _env_int("PORTAL_SEARCH_USAGE_FLUSH_SECONDS", self.SEARCH_USAGE_FLUSH_SECONDS)
        self.UPSTREAM_BASE_URLS = {
            name.lower(): env.get(f"PORTAL_{name}_BASE_URL") or default for name, default in UPSTREAM_DEFAULTS.items()
        }
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.CACHE_TYPE = "RedisCache" if self.REDIS_URL else "SimpleCache"
        if self.REDIS_URL:
            self.CACHE_REDIS_URL = self.REDIS_URL
            # Redis must never make a request wait: a dead one is skipped (portal/core/redis_client.py).
            self.CACHE_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1, "retry": None}
            self.RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}
        self.CACHE_DEFAULT_TIMEOUT = 300
        self.CACHE_KEY_PREFIX = env.get("PORTAL_CACHE_PREFIX", "portal:")
        self.RATELIMIT_KEY_PREFIX = self.CACHE_KEY_PREFIX + "limits"


class DevelopmentConfig(Config):
    DEBUG = False


class ProductionConfig(Config):
    """Served over HTTPS only: Secure cookies with the __Host- prefix (this host, path /, never over
    plain HTTP) and HSTS."""

    HSTS_SECONDS = 365 * 24 * 3600

    def __init__(self):
        super().__init__()
        self.SESSION_COOKIE_SECURE = os.environ.get("PORTAL_SECURE_COOKIES", "1") == "1"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        if self.SESSION_COOKIE_SECURE:
            self.SESSION_COOKIE_NAME = "__Host-session"
            self.DEVICE_COOKIE_NAME = "__Host-device"


class TestingConfig(Config):
    TESTING = True
    LOG_REQUESTS = False
    API_VALIDATE_RESPONSES = True
    # Each search's usage rows are written at once; tests of the batching set their own window.
    SEARCH_USAGE_FLUSH_SECONDS = 0
    # Tests create thousands of users: a cheap hash keeps set-up fast; the rules are the same.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

    def __init__(self):
        super().__init__()
        self.SECRET_KEY = "test-secret-key"
        self.SQLALCHEMY_DATABASE_URI = _normalise_database_url(
            os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + str(INSTANCE_DIR / "test.sqlite3")
        )
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"


CONFIGS = {"development": DevelopmentConfig, "production": ProductionConfig, "testing": TestingConfig}


def config_from_env():
    return CONFIGS[os.environ.get("PORTAL_ENV", "development")]()
