"""Every text a person reads in a template is marked for translation (tests/i18n/scan.py says what counts)."""

import pytest

from tests.i18n.scan import TEMPLATES, template_files, untranslated

FILES = template_files()


def test_the_templates_are_found():
    assert len(FILES) > 80
    assert TEMPLATES / "base.html" in FILES


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(TEMPLATES)) for p in FILES])
def test_no_unmarked_text(path):
    src = path.read_text()
    pieces = untranslated(src, html=path.suffix == ".html")
    found = [f"{p.kind}: {p.source(src)!r}" for p in pieces]
    assert not found, (f"{path.relative_to(TEMPLATES)} shows text not marked for translation (wrap it in "
                       "{% translate %} / {% blocktranslate %}, or _(\"...\") in a filter or include argument):\n  "
                       + "\n  ".join(found))


@pytest.mark.parametrize("src, unmarked", [
    ("<p>Hello</p>", ["Hello"]),
    ('{% load i18n %}<p>{% translate "Hello" %}</p>', []),
    ("<p>{% blocktranslate with n=x.name %}Hi {{ n }}{% endblocktranslate %}</p>", []),
    ("<td>{{ amount|money:currency }} · 42 %</td>", []),  # numbers, symbols and variables only
    ("<p>Total: {{ total }}</p>", ["Total: {{ total }}"]),
    ('<input placeholder="Search programs">', ["Search programs"]),
    ("<input placeholder=\"{% translate 'Search' %}\">", []),
    ('<button aria-label="Close">×</button>', ["Close"]),
    ('{{ name|default:"nobody" }}', ["nobody"]),
    ('{{ name|default:_("nobody") }}', []),
    ('{% include "x.html" with empty_text="Nothing yet." %}', ["Nothing yet."]),
    ('{% include "x.html" with style="secondary outline" kind="affiliate" %}', []),
    ("{% comment %}Notes for developers{% endcomment %}<script>var label = 'x';</script>", []),
    ("<code>/api/v1/conversions</code> &nbsp; API · CSV", []),
])
def test_the_scanner(src, unmarked):
    assert [p.source(src) for p in untranslated(src)] == unmarked
