"""Where uploaded files are stored (Django's STORAGES setting), chosen from the environment.

Two stores: `default` for private files (tax forms, CSV imports: read back through the app only) and `public`
for files other sites embed (creatives' banners, at a stable URL). Without `S3_BUCKET` (the embedded default)
both are the local `MEDIA_ROOT`; with it, both are an S3-compatible bucket through django-storages, so no web
or worker process keeps a file another one needs.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
S3 = "storages.backends.s3.S3Storage"


def storages_setting(env, *, static_backend: str) -> dict:
    """STORAGES from the S3_* variables of `env` (a django-environ Env)."""
    bucket = env.str("S3_BUCKET", default="")
    static = {"BACKEND": static_backend}
    if not bucket:
        return {"default": LOCAL, "public": LOCAL, "staticfiles": static}
    common = {
        "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,  # unset: AWS itself
        "region_name": env.str("S3_REGION", default="") or None,
        # Unset: boto3's own chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, the instance's role).
        "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
        "addressing_style": env.str("S3_ADDRESSING_STYLE", default="") or None,  # "path" for most self-hosted stores
        "signature_version": "s3v4",
        # A second upload of the same name gets its own key, never replaces a file a row still points to.
        "file_overwrite": False,
        # Access comes from the bucket's policy (object ACLs are off on new AWS buckets).
        "default_acl": None,
    }
    private = {**common, "bucket_name": bucket, "querystring_auth": True, "querystring_expire": 300}
    public = {
        **common,
        "bucket_name": env.str("S3_PUBLIC_BUCKET", default="") or bucket,
        # Under this prefix of the bucket, the one the bucket's policy lets anyone read.
        "location": env.str("S3_PUBLIC_PREFIX", default="public").strip("/"),
        # Embedded in other sites' pages: a plain URL that does not expire.
        "querystring_auth": False,
    }
    public_url = env.str("S3_PUBLIC_URL", default="").rstrip("/")
    if public_url:
        # A CDN or the store's public address (`https://cdn.example.com`, `http://localhost:9000/bucket`).
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ImproperlyConfigured("S3_PUBLIC_URL must be an http(s) URL.")
        public.update(custom_domain=parts.netloc + parts.path, url_protocol=f"{parts.scheme}:")
    return {"default": {"BACKEND": S3, "OPTIONS": private}, "public": {"BACKEND": S3, "OPTIONS": public},
            "staticfiles": static}
