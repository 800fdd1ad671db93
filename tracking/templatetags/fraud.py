"""`{% load fraud %}`: a conversion's fraud signals in words with their evidence."""

from django import template

from tracking import fraud_words

register = template.Library()


@register.inclusion_tag("includes/fraud_evidence.html")
def fraud_evidence(conversion):
    return {"signals": fraud_words.evidence(conversion) if conversion is not None else []}


@register.filter
def signal_title(code: str) -> str:
    return fraud_words.title(code)


@register.filter
def signal_explained(code: str) -> str:
    """What a signal means, for a badge's tooltip (the code itself is no word for a person)."""
    return str(fraud_words.WITHOUT_EVIDENCE.get(code, fraud_words.title(code)))
