"""Settings for Inpaint Studio: one module; anything that differs per deployment comes from the environment.

With no environment at all the app runs on embedded defaults (SQLite, media and a filesystem
Celery broker under ``var/``), so ``make run`` works on a fresh machine. The README lists
every variable with its default.

Importing this module reads the environment and, at most, the generated secret key: it writes
nothing. The folders and the key are made by the start-up step (webapp/startup.py), which
``make run``, the deploy units and the test suite run first.
"""

from pathlib import Path

import urllib3
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Exchange, Queue

from webapp.env_readers import CheckedEnv
from webapp.secret_key import secret_key_read

BASE_DIR = Path(__file__).resolve().parent.parent

env = CheckedEnv()

VAR_DIR = Path(env("INPAINT_VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("SECRET_KEY", default=None) or secret_key_read(VAR_DIR)
DEBUG = env.bool("DEBUG", default=False)
# Django's own advice for a key that cannot be guessed; the example env file's placeholder says "change-me".
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_PLACEHOLDER = "change-me"
if not DEBUG and (SECRET_KEY_PLACEHOLDER in SECRET_KEY or len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH):
    raise ImproperlyConfigured(f"SECRET_KEY is the example's placeholder or shorter than {SECRET_KEY_MIN_LENGTH} "
                               "characters; set it to a long random value (the same on every host), or leave it "
                               "unset to have the start-up step generate one into INPAINT_VAR_DIR.")
# Hide the DashScope key and other secrets from error reports even with DEBUG on.
DEFAULT_EXCEPTION_REPORTER_FILTER = "inpaint.reporting.SecretsHiddenReporterFilter"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The port `make run` serves on (webapp.supervisor): read here, so a malformed one stops the start
# rather than failing the web server's bind again at every restart.
RUN_PORT = env.int("PORT", default=8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "inpaint",
]

MIDDLEWARE = [
    "inpaint.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session (the language a person chose) and before CommonMiddleware, as Django asks.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "inpaint.middleware.AccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

# Who may use the page: "open" (anyone; anonymous visitors own their jobs: demos, `make run`) or
# "login" (staff: every page and file needs sign-in; the admin adds people).
INPAINT_ACCESS = env("INPAINT_ACCESS", default="open")
if INPAINT_ACCESS not in ("open", "login"):
    raise ImproperlyConfigured('INPAINT_ACCESS must be "open" or "login".')
# The admin is a sign-in form for the whole site: in open mode it is routed only when this says so.
INPAINT_ADMIN_IN_OPEN_MODE = env.bool("INPAINT_ADMIN_IN_OPEN_MODE", default=False)
# Password reset mails go out (and reset is routed) only with a backend that sends (the env var keeps
# its familiar name; Django 6 takes it as the default mailer).
# Unset, no mailer is configured at all (a development backend here would fail `check --deploy`).
if env("EMAIL_BACKEND", default=""):
    MAILERS = {"default": {"BACKEND": env("EMAIL_BACKEND")}}
# Failed sign-ins allowed per account and per client network, "count/seconds", before a pause.
INPAINT_SIGNIN_RATE = env.rate("INPAINT_SIGNIN_RATE", default="5/900")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inpaint:studio"
LOGOUT_REDIRECT_URL = "inpaint:studio"

# Behind HTTPS (see the README's "Behind HTTPS" block): secure cookies, HSTS and the redirect.
# Behind a reverse proxy, INPAINT_BEHIND_PROXY trusts its X-Forwarded-Proto, and its X-Forwarded-For on
# requests from INPAINT_TRUSTED_PROXIES (inpaint.services.addresses).
INPAINT_HTTPS = env.bool("INPAINT_HTTPS", default=False)
INPAINT_BEHIND_PROXY = env.bool("INPAINT_BEHIND_PROXY", default=False)
# The proxies (addresses or networks) whose X-Forwarded-For entries are believed: a request whose
# connection comes from elsewhere is taken at its REMOTE_ADDR. List a CDN's ranges too when it is in front.
INPAINT_TRUSTED_PROXIES = env.list("INPAINT_TRUSTED_PROXIES", default=["127.0.0.1", "::1"])
SECURE_SSL_REDIRECT = INPAINT_HTTPS
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = INPAINT_HTTPS
SECURE_HSTS_SECONDS = env.int("INPAINT_HSTS_SECONDS", default=31_536_000 if INPAINT_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("INPAINT_HSTS_INCLUDE_SUBDOMAINS", default=INPAINT_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("INPAINT_HSTS_PRELOAD", default=INPAINT_HTTPS)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if INPAINT_BEHIND_PROXY else None
SESSION_COOKIE_HTTPONLY = True
# Scripts and style sheets only from this app's own static files; style attributes are allowed
# because progress bars and the before/after split set a width or position per element.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src-elem": [CSP.SELF],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
# Each web thread keeps its connection between requests: thirty phones polling every second would
# otherwise open and close a PostgreSQL connection (milliseconds each) on every poll.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("INPAINT_DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write the same file: WAL lets readers go on while one
    # writes, and IMMEDIATE transactions queue writers instead of failing with "locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in ("UserAttributeSimilarityValidator", "MinimumLengthValidator", "CommonPasswordValidator",
                 "NumericPasswordValidator")
]

LANGUAGE_CODE = "en"
# The page's two languages, picked from the browser's Accept-Language or the switch in the page (its cookie),
# never from a prefix in the URL. zh, zh-CN and zh-Hans take Simplified Chinese; so do zh-TW and zh-Hant, by
# Django's own fallback to the one Chinese offered (README-i18n.md says why): readers of Traditional Chinese
# read Simplified far more easily than English, and the switch offers English.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SECURE = INPAINT_HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# The folders under VAR_DIR the start-up step makes before any process starts: whitenoise warns of a
# missing STATIC_ROOT, and the filesystem broker (below) needs its folders.
INPAINT_VAR_FOLDERS = [STATIC_ROOT]
MEDIA_ROOT = Path(env("INPAINT_MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Media is never served at a public URL: owners get files through checked views, the
# cloud service through signed links (see inpaint.services.links). No route serves this
# prefix; it is set only because Django's test server insists on one.
MEDIA_URL = "/media-not-served/"
# Hosts with no shared disk keep media in S3 or an S3-compatible store (MinIO, Ceph); the
# credentials are boto3's own AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment.
INPAINT_S3_BUCKET = env("INPAINT_S3_BUCKET", default="")
# Whether people's browsers and DashScope can reach the bucket's endpoint: then downloads and
# DashScope's fetches go to presigned bucket URLs; otherwise the web process streams downloads
# and DashScope gets app links or its temporary storage.
INPAINT_S3_REACHABLE_FROM_OUTSIDE = bool(INPAINT_S3_BUCKET) and env.bool("INPAINT_S3_REACHABLE_FROM_OUTSIDE",
                                                                         default=False)
# How long a presigned URL handed to a person works: long enough to start the download.
INPAINT_S3_REDIRECT_TTL = 300


def s3_media_storage(bucket: str, *, endpoint_url: str | None = None, region: str | None = None) -> dict:
    """The STORAGES entry for media in one private bucket."""
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        # No ACL header: objects stay as private as the bucket, and AWS refuses ACLs on buckets
        # created since 2023 (ACLs disabled). Every URL is presigned and short-lived.
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": INPAINT_S3_REDIRECT_TTL,
        # botocore would presign some URLs with the old version 2, which newer regions refuse.
        "signature_version": "s3v4",
        # S3-compatible stores answer at one host with the bucket in the path; virtual hosts
        # (bucket.minio:9000) would need DNS they seldom have.
        "addressing_style": "path" if endpoint_url else None,
        # Names are per job and per slot, and a step that runs twice writes the same bytes, so an
        # overwrite is harmless and saves a lookup per file.
        "file_overwrite": True,
    }}


STORAGES = {
    "default": (s3_media_storage(INPAINT_S3_BUCKET, endpoint_url=env("INPAINT_S3_ENDPOINT_URL", default=""),
                                 region=env("INPAINT_S3_REGION", default=""))
                if INPAINT_S3_BUCKET else {"BACKEND": "django.core.files.storage.FileSystemStorage"}),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploads are checked in full by inpaint.images; this caps what Django keeps in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
# Pictures and results are people's own: readable by the app's user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

SESSION_COOKIE_AGE = 60 * 60 * 24 * 365
# The language switch is remembered as long as the session.
LANGUAGE_COOKIE_AGE = SESSION_COOKIE_AGE
# Shared by every web process and host (the creation rate per client address is counted here).
# Sized so flood counters are not evicted under load: the database cache's default of 300 entries
# is a few seconds of a cookie-less flood (one visitor entry a post).
INPAINT_CACHE_MAX_ENTRIES = env.int("INPAINT_CACHE_MAX_ENTRIES", default=100_000)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "inpaint_cache",
                      "OPTIONS": {"MAX_ENTRIES": INPAINT_CACHE_MAX_ENTRIES}}}

# Celery ---------------------------------------------------------------------------------
# The embedded broker is kombu's filesystem transport: it needs no server and, unlike the
# SQLAlchemy transport on SQLite, does not compete with the app for the database lock.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    INPAINT_VAR_FOLDERS += [BROKER_DIR / folder for folder in ("queue", "processed", "control")]
    # The same transport, run from the worker's event loop: without it a pool process killed while
    # idle stops its worker for good (webapp/broker.py says why).
    CELERY_BROKER_TRANSPORT = "webapp.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Every folder under var/: kombu's default for the control folder is ./control.
        "control_folder": str(BROKER_DIR / "control"),
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
# Two queues: short steps that submit and poll cloud jobs, and offline fills that hold a worker
# for seconds. Declared here, so a plain `celery -A webapp worker` serves both; `make run` gives
# each its own worker process (`-Q steps`, `-Q fills`). Each has its own exchange: a queue declared
# without one is bound to the default queue's exchange and key, so on RabbitMQ a message published
# there would land in both.
CELERY_TASK_DEFAULT_QUEUE = "steps"
INPAINT_FILL_QUEUE = "fills"
CELERY_TASK_QUEUES = tuple(Queue(name, Exchange(name), routing_key=name)
                           for name in (CELERY_TASK_DEFAULT_QUEUE, INPAINT_FILL_QUEUE))
# A worker killed mid-step has its task handed to another at once; the step's token makes the
# second run harmless (and a paid call is guarded by its claim, not by the broker).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# The pool reports a killed process's task lost only after this wait (Celery's default is 10 s,
# for a result still in the pipe); results are ignored here, so the task goes back at once.
CELERY_WORKER_LOST_WAIT = 1.0
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# DashScope --------------------------------------------------------------------------------
# Secrets mounted from files often end in a newline, which requests would refuse while quoting
# the header (key included) in its error; so the key is stripped, and anything still odd stops
# the start with a message that does not show it.
DASHSCOPE_API_KEY = env("DASHSCOPE_API_KEY", default="").strip()
if any(character.isspace() or not character.isprintable() for character in DASHSCOPE_API_KEY):
    raise ImproperlyConfigured("DASHSCOPE_API_KEY contains spaces or control characters; set it to the key alone.")
DASHSCOPE_BASE_URL = env("DASHSCOPE_BASE_URL", default="https://dashscope.aliyuncs.com/api/v1").rstrip("/")
# (connect, read) seconds for every call to the API.
DASHSCOPE_TIMEOUT = (env.float("DASHSCOPE_CONNECT_TIMEOUT", default=5.0), env.float("DASHSCOPE_READ_TIMEOUT", default=30.0))

# Inpaint Studio ---------------------------------------------------------------------------
# The app's own limits on what people bring; the models' limits apply only to what is sent to them.
INPAINT_MAX_UPLOAD_BYTES = env.int("INPAINT_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
INPAINT_MAX_PIXELS = env.int("INPAINT_MAX_PIXELS", default=100_000_000)
INPAINT_MIN_SIDE = env.int("INPAINT_MIN_SIDE", default=32)
# Full picture decodes one web process does at once, and how long a request waits for one before it is
# answered "busy": a 100 MP picture costs up to a gigabyte while it is decoded.
INPAINT_DECODES_AT_ONCE = env.int("INPAINT_DECODES_AT_ONCE", default=1)
INPAINT_DECODE_WAIT = env.float("INPAINT_DECODE_WAIT", default=10.0)
# Picture previews for the editor one client network may ask for, "count/seconds" (each may decode 100 MP).
INPAINT_PREVIEW_RATE = env.rate("INPAINT_PREVIEW_RATE", default="120/60")
INPAINT_PUBLIC_BASE_URL = env("INPAINT_PUBLIC_BASE_URL", default="").rstrip("/")
# The service fetches the pictures within moments of the create call; a link it was given lives no longer.
INPAINT_LINK_TTL = env.int("INPAINT_LINK_TTL", default=300)
# Every engine the app can run, as import strings: a new engine is one module and one line here.
INPAINT_ENGINE_CLASSES = env.list("INPAINT_ENGINE_CLASSES", default=[
    "inpaint.engines.offline.OfflineEngine",
    "inpaint.engines.dashscope.WanxPaintingEngine",
    "inpaint.engines.dashscope.WanxImageEditEngine",
    "inpaint.engines.qwen.QwenImageEditPlusEngine",
    "inpaint.engines.qwen.QwenImageEditMaxEngine",
])
INPAINT_ENGINES = env.list("INPAINT_ENGINES", default=["offline", "wanx-x-painting", "wanx2.1-imageedit",
                                                       "qwen-image-edit-plus", "qwen-image-edit-max"])
INPAINT_POLL_INTERVAL = env.float("INPAINT_POLL_INTERVAL", default=1.0)
INPAINT_JOB_DEADLINE = env.int("INPAINT_JOB_DEADLINE", default=900)
# A task past the deadline that will still be billed (running, or its cancel did not take) is
# polled this often until the service stops keeping it (24 h), so its images are collected.
INPAINT_LATE_POLL_INTERVAL = env.float("INPAINT_LATE_POLL_INTERVAL", default=30.0)
INPAINT_RETRY_BASE_DELAY = env.float("INPAINT_RETRY_BASE_DELAY", default=1.0)
INPAINT_RETRY_MAX_DELAY = env.float("INPAINT_RETRY_MAX_DELAY", default=60.0)
# The whole download of one finished image, however slowly it arrives.
INPAINT_DOWNLOAD_TIMEOUT = env.float("INPAINT_DOWNLOAD_TIMEOUT", default=30.0)
# Hosts whose result links may be plain http or inside a private network (on the first hop only;
# redirects must go to https on public addresses). The real DashScope serves results over https from
# public hosts, so none is needed; a stand-in on this machine has a plain-http DASHSCOPE_BASE_URL,
# whose host is then the default.
_api_url = urllib3.util.parse_url(DASHSCOPE_BASE_URL)
INPAINT_DOWNLOAD_HOSTS = [host.strip("[]").lower() for host in env.list(
    "INPAINT_DOWNLOAD_HOSTS", default=[_api_url.host] if _api_url.scheme == "http" and _api_url.host else [])]
# A create call that keeps failing (5xx, timeouts, ModelUnavailable) is given up this long after
# the job was created; nothing was billed then.
INPAINT_SUBMIT_DEADLINE = env.int("INPAINT_SUBMIT_DEADLINE", default=900)
# Around the time a task is expected to finish (from recent jobs) it is polled this often.
INPAINT_POLL_FAST_INTERVAL = env.float("INPAINT_POLL_FAST_INTERVAL", default=0.25)
# Account limits per engine, e.g. "wanx-x-painting=2"; unset engines use their documented
# defaults (wanx-x-painting 2 submissions/s and 1 running task, wanx2.1-imageedit 2 and 2).
INPAINT_SUBMIT_RATES = env.counts("INPAINT_SUBMIT_RATES")
INPAINT_RUNNING_LIMITS = env.counts("INPAINT_RUNNING_LIMITS")
INPAINT_ADMISSION_RECHECK = env.float("INPAINT_ADMISSION_RECHECK", default=5.0)
# The sweep is the last line of defence for a step the broker cannot hand back (the embedded
# filesystem broker, or a whole worker killed on Redis): a lost step runs again within about
# lease + grace + interval = 12 s.
INPAINT_SWEEP_INTERVAL = env.float("INPAINT_SWEEP_INTERVAL", default=2.0)
INPAINT_SWEEP_GRACE = env.float("INPAINT_SWEEP_GRACE", default=4.0)
# A step doing slow work renews its due time every third of this; a dead worker's job is
# picked up this long (plus the sweep's grace) after it stopped renewing.
INPAINT_STEP_LEASE = env.float("INPAINT_STEP_LEASE", default=6.0)


def _monthly_cap(name: str) -> int | None:
    """A cap of cloud images a month: None when unset (inpaint.services.usage then applies the open-mode
    default), 0 when turned off on purpose ("0" or "off"), else the number."""
    value = env(name, default="").strip().lower()
    if not value:
        return None
    if value == "off":
        return 0
    if not value.isdigit():
        raise ImproperlyConfigured(f'{name} must be a whole number of images, or "off".')
    return int(value)


# Cloud images a month for the whole app and per person (a signed-in account, an anonymous browser's
# session, a room guest). Unset, an open page with a DashScope key is capped at these defaults (the
# free allowance, and a share of it per person), so a public page never spends without limit; login
# mode has no cap unless one is set.
INPAINT_MONTHLY_IMAGE_CAP = _monthly_cap("INPAINT_MONTHLY_IMAGE_CAP")
INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER = _monthly_cap("INPAINT_MONTHLY_IMAGE_CAP_PER_OWNER")
INPAINT_OPEN_MONTHLY_IMAGE_CAP = 500
INPAINT_OPEN_MONTHLY_IMAGE_CAP_PER_OWNER = 20
# Jobs in progress at once per person.
INPAINT_MAX_ACTIVE_JOBS = env.int("INPAINT_MAX_ACTIVE_JOBS", default=4)
# Photos in one batch (each is a job; Django takes at most 100 files a post, and a batch sends one a post).
INPAINT_BATCH_MAX_PHOTOS = env.int("INPAINT_BATCH_MAX_PHOTOS", default=100)
# Flood limits per client network (an IPv4 address, an IPv6 /64), as "count/seconds", sized for a
# room of thirty phones on one Wi-Fi: new jobs, and new visitors (a cookie-less script is a new
# visitor on every post). A bigger group uses a room, which has its own limits.
INPAINT_CREATE_RATE = env.rate("INPAINT_CREATE_RATE", default="60/60")
INPAINT_NEW_VISITOR_RATE = env.rate("INPAINT_NEW_VISITOR_RATE", default="30/600")
# Room joins per client network, "count/seconds": a join link posted in public is as open as open mode.
INPAINT_JOIN_RATE = env.rate("INPAINT_JOIN_RATE", default="60/600")
# Requests one personal API key may make to the gateway (/api/v1), "count/seconds": every call counts, the polls of
# an SDK's wait() too (1 to 5 s apart), and past it the script is answered 429 Throttling.RateQuota.
INPAINT_API_KEY_RATE = env.rate("INPAINT_API_KEY_RATE", default="300/60")
# How long the gateway's synchronous Qwen call holds its answer open while the job takes its turn and is painted.
# Under the SDK's own 120 s request timeout, so the script reads the app's answer (the task's id) and not a
# dropped connection; a script that raises request_timeout can have this raised to match.
INPAINT_API_GENERATION_WAIT = env.float("INPAINT_API_GENERATION_WAIT", default=110.0)
# A script's tasks past the person's jobs in progress wait for their turn (PENDING, as on DashScope), up to this
# many; one more is answered 429 Throttling.AllocationQuota.
INPAINT_API_MAX_WAITING_TASKS = env.int("INPAINT_API_MAX_WAITING_TASKS", default=100)
# Finished jobs and their files are deleted this many days after they were made.
INPAINT_RETENTION_DAYS = env.int("INPAINT_RETENTION_DAYS", default=30)

CELERY_BEAT_SCHEDULE = {
    "jobs-sweep": {"task": "inpaint.tasks.jobs_sweep_task", "schedule": INPAINT_SWEEP_INTERVAL},
    "jobs-expire": {"task": "inpaint.tasks.jobs_expire_task", "schedule": 3600.0},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Signed-link tokens are hidden in every line (e.g. Django's "Not Found: /links/…" warnings).
    "filters": {"link_tokens_hidden": {"()": "inpaint.reporting.LinkTokensHidden"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["link_tokens_hidden"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # urllib3 logs full URLs at DEBUG; signed links must not end up in logs.
    "loggers": {"urllib3": {"level": "WARNING"}},
}

# Qwen-Image-Edit (issue 20) ----------------------------------------------------------------
# One synchronous call per job that may take minutes: its own read timeout (third-party gateways use 360 s;
# the SDK's 120 s is too short for 2048 px). The step that makes it, then downloads (each image tried up to 4
# times) and pastes back the images, is given 3 minutes beyond the call before Celery interrupts it, and half a
# minute more before it kills it.
INPAINT_QWEN_TIMEOUT = env.float("INPAINT_QWEN_TIMEOUT", default=360.0)
INPAINT_EDIT_SOFT_TIME_LIMIT = INPAINT_QWEN_TIMEOUT + DASHSCOPE_TIMEOUT[0] + 180
INPAINT_EDIT_TIME_LIMIT = INPAINT_EDIT_SOFT_TIME_LIMIT + 30
# Account limits for each Qwen model: calls a second, and calls in progress. The reference gives none for
# these models; the defaults are wanx2.1-imageedit's documented 2 and 2. Per model: plus and max each.
INPAINT_QWEN_SUBMIT_RATE = env.int("INPAINT_QWEN_SUBMIT_RATE", default=2)
INPAINT_QWEN_RUNNING_LIMIT = env.int("INPAINT_QWEN_RUNNING_LIMIT", default=2)
# Sync calls hold a worker for the whole call: their own queue (and worker, `-Q edits`), so a cloud job's
# polls and the offline fills never wait behind one.
INPAINT_EDIT_QUEUE = "edits"
CELERY_TASK_QUEUES += (Queue(INPAINT_EDIT_QUEUE, Exchange(INPAINT_EDIT_QUEUE), routing_key=INPAINT_EDIT_QUEUE),)
