"""The client's address as our own proxies saw it: one reading for the click redirect, the API's rate limits
and the login limits."""


def client_ip(meta, trusted_proxies: int) -> str:
    """The socket peer (`REMOTE_ADDR`), or behind `trusted_proxies` reverse proxies that each append to
    X-Forwarded-For, the entry the outermost of them appended. A header with fewer entries than proxies did not
    come through all of them: the socket peer then."""
    if trusted_proxies > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= trusted_proxies:
            return forwarded[-trusted_proxies]
    return meta.get("REMOTE_ADDR", "") or ""
