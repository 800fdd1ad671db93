"""Which language a page or an e-mail speaks: the person's choice > the network's language > the browser's.

The API is not translated: its `detail` strings and enum values are a contract in English whoever calls.
"""

from contextlib import contextmanager

from django.conf import settings
from django.utils import translation

LANGUAGE_CODES = frozenset(code for code, _ in settings.LANGUAGES)


def supported(code: str | None) -> str:
    """`code` when it is one of LANGUAGES (a region variant counts: "pl-PL" -> "pl"), else ""."""
    if not code:
        return ""
    code = code.lower().replace("_", "-")
    if code in LANGUAGE_CODES:
        return code
    base = code.split("-")[0]
    return base if base in LANGUAGE_CODES else ""


def language_for(*, user=None, network=None, fallback: str = "") -> str:
    """The language of someone: their saved choice, else their network's, else `fallback`, else the default."""
    return (supported(getattr(user, "language", ""))
            or supported(getattr(network, "language", ""))
            or supported(fallback)
            or settings.LANGUAGE_CODE)


def cookie_language(request) -> str:
    return supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))


def activate_for_request(request, *, network=None) -> str:
    """Activate the language of this request: a user's choice, else a stranger's switcher cookie, else
    `network`'s language, else what LocaleMiddleware found in Accept-Language. Returns the code."""
    user = getattr(request, "user", None)
    chosen = supported(getattr(user, "language", "")) if user is not None and user.is_authenticated else ""
    code = (chosen or cookie_language(request) or supported(getattr(network, "language", ""))
            or supported(getattr(request, "LANGUAGE_CODE", "")) or settings.LANGUAGE_CODE)
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return code


@contextmanager
def language_of(*, user=None, network=None):
    """`with language_of(user=recipient, network=network):` renders an e-mail in the recipient's language."""
    with translation.override(language_for(user=user, network=network)):
        yield


def choice_word(choices, value) -> str:
    """A choice's label as a word inside a sentence, in the active language: `choice_word(Program.Status, "paused")`
    -> "paused" / "приостановлена"; an unknown value as it is. Flash messages and service errors name states so."""
    labels = dict(choices.choices if hasattr(choices, "choices") else choices)
    label = labels.get(value)
    return value if label is None else str(label).lower()
