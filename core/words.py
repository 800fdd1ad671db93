"""Messages a row keeps for later pages: the English msgid and its parameters, translated when shown (in the
reader's language), beside the English text the API returns. Rows written before kept the English text only."""

import re

from django.utils.translation import gettext, gettext_noop


class Message(str):
    """A message made in the active language (a plain string to every caller) that remembers its msgid and
    parameters, so a service can store them and a page translate them later."""

    msgid: str
    params: dict


def message(msgid: str, params: dict | None = None) -> Message:
    """`message(gettext_noop("Provider: %(status)s"), {"status": "denied"})`: the msgid is marked where written."""
    params = {key: value if isinstance(value, int | float) else str(value) for key, value in (params or {}).items()}
    made = Message(gettext(msgid) % params if params else gettext(msgid))
    made.msgid, made.params = msgid, params
    return made


def entry(text: str, field: str = "") -> dict:
    """What a row stores of one message: {"msgid", "params"} (and the field it is about), or its text alone."""
    stored = ({"msgid": text.msgid, "params": text.params} if isinstance(text, Message) else {"text": str(text)})
    return stored | ({"field": field} if field else {})


def _one(stored: dict, translate) -> str:
    text = stored.get("text", "")
    msgid = stored.get("msgid")
    if isinstance(msgid, str):
        params = stored.get("params") or {}
        try:
            text = translate(msgid) % params if params else translate(msgid)
        except (KeyError, TypeError, ValueError):  # a catalogue's placeholders gone wrong: the English one
            text = msgid % params if params else msgid
    field = stored.get("field")
    return f"{field}: {text}" if field else text


def english(entries: list[dict]) -> str:
    """The stored messages in English (what the API returns): "field: message; other: message"."""
    return "; ".join(_one(stored, str) for stored in entries or [] if isinstance(stored, dict))


def shown(entries: list[dict], fallback: str = "") -> str:
    """The stored messages in the active language; a row that kept only English text shows it as it is."""
    if not entries:
        return fallback
    return "; ".join(_one(stored, gettext) for stored in entries if isinstance(stored, dict)) or fallback


# The reasons the tier true-up writes (`commissions.trueup`, `commissions.retrue`), stored in English on the commission
# and in the audit log (`TRUEUP_REASON % params`), and shown in the reader's language: a stored text of one of these
# forms is read back into its parameters. Another reason (an operator's own words) is shown as it was written.
TRUEUP_REASON = gettext_noop("Tier true-up %(period)s: rate %(before)s -> %(rate)s")
RETRUE_REASON = gettext_noop("Tier true-up %(period)s again, order %(order)s corrected: rate %(before)s -> %(rate)s")
# A refund or a rejection of an order after the true-up (`commissions.retrue.period_sales_lost`).
RETRUE_REFUND_REASON = gettext_noop(
    "Tier true-up %(period)s again, order %(order)s refunded: rate %(before)s -> %(rate)s")
RETRUE_REJECT_REASON = gettext_noop(
    "Tier true-up %(period)s again, order %(order)s rejected: rate %(before)s -> %(rate)s")
_WORD = r"\S+"


def reading(msgid: str, values: dict | None = None) -> re.Pattern:
    """The stored English of `msgid` as a pattern naming its parameters (`values`: a parameter's own pattern, else
    one word; an order id may hold spaces)."""
    parts = re.split(r"%\((\w+)\)s", msgid)
    value = {"order": ".+", **(values or {})}
    return re.compile("".join(re.escape(part) if n % 2 == 0 else f"(?P<{part}>{value.get(part, _WORD)})"
                              for n, part in enumerate(parts)))


_READINGS = [(msgid, reading(msgid))
             for msgid in (TRUEUP_REASON, RETRUE_REASON, RETRUE_REFUND_REASON, RETRUE_REJECT_REASON)]

# The reasons a commission is born with when its conversion's fraud signals held or rejected it
# (`commissions.compute`): the signals' codes, comma-separated, shown by their titles (`tracking.fraud_words`
# registers them: this layer knows no signal).
HELD_REASON = gettext_noop("Held for review: %(signals)s")
FRAUD_REJECTED_REASON = gettext_noop("Rejected by the fraud policy: %(signals)s")
_CODES = r"(?P<signals>[a-z_]+(?:, [a-z_]+)*)"
_SIGNAL_READINGS = [(msgid, re.compile(re.escape(msgid.replace("%(signals)s", "")) + _CODES))
                    for msgid in (HELD_REASON, FRAUD_REJECTED_REASON)]
_signal_titles: dict = {}


def signal_titles_register(titles: dict) -> None:
    """{code: lazily translated title} of the fraud signals a stored reason may name."""
    _signal_titles.update(titles)


# A reason another layer writes in English, behind the same two openings (`commissions.caps`: which cap a commission
# went past): "Held for review: <its text>", "Rejected: <its text>", or its text alone after another reason's "; ".
HELD_FOR = gettext_noop("Held for review: %(why)s")
REJECTED_FOR = gettext_noop("Rejected: %(why)s")
_OPENINGS = [(msgid, msgid.replace("%(why)s", "")) for msgid in (HELD_FOR, REJECTED_FOR)]
_readers: list = []


def reason_reader_register(reader) -> None:
    """`reader(text)`: the reader's language for a stored English text its layer writes, None when not its own."""
    _readers.append(reader)


def _read(text: str) -> str | None:
    for reader in _readers:
        if (shown := reader(text)) is not None:
            return shown
    return None


def _part_shown(reason: str) -> str:
    for msgid, pattern in _READINGS:
        if found := pattern.fullmatch(reason):
            return gettext(msgid) % found.groupdict()
    for msgid, pattern in _SIGNAL_READINGS:
        if found := pattern.fullmatch(reason):
            codes = found["signals"].split(", ")
            titles = ", ".join(str(_signal_titles.get(code, code)) for code in codes)
            return gettext(msgid) % {"signals": titles}
    for msgid, opening in _OPENINGS:
        if reason.startswith(opening) and (shown := _read(reason[len(opening):])) is not None:
            return gettext(msgid) % {"why": shown}
    shown = _read(reason)
    return reason if shown is None else shown


def reason_shown(reason: str) -> str:
    """A stored reason in the reader's language, part by part where the writers joined reasons with "; " (a part
    no writer knows, as stored)."""
    shown = _part_shown(reason)
    if shown != reason or "; " not in reason:
        return shown
    return "; ".join(_part_shown(part) for part in reason.split("; "))
