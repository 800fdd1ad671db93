"""The catalogues hold every message the code and templates mark, each translated (not empty, not fuzzy), with
the same placeholders and the languages' plural forms; the compiled .mo files match the .po files.

Extraction is Django's makemessages (GNU gettext's xgettext and msgmerge; scripts/test.sh installs them), run on a
copy of the project so the committed catalogues are compared, not rewritten.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LANGUAGES = ["lv", "ru", "id", "pl"]
NPLURALS = {"lv": 3, "ru": 3, "pl": 3, "id": 1}
# Not copied for the extraction run (the makemessages command ignores them as well).
NOT_SOURCE = {".venv", "venv", ".git", "tests", "bench", "static", "staticfiles", "media", "var", "docs",
              "node_modules", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%%|\{\w+\}")
FIX = ("Run `.venv/bin/python manage.py makemessages -l lv -l ru -l id -l pl`, translate what is new or fuzzy, then "
       "`.venv/bin/python manage.py compilemessages` (README: Translations).")


def po_path(lang: str, root: Path = ROOT) -> Path:
    return root / "locale" / lang / "LC_MESSAGES" / "django.po"


def catalogue(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def key(message) -> tuple:
    ids = list(message.id) if isinstance(message.id, list | tuple) else [message.id]
    context = message.context.decode() if isinstance(message.context, bytes) else message.context
    if context is None and "\x04" in ids[0]:  # a .mo keeps the context in front of the id
        context, ids[0] = ids[0].split("\x04", 1)
    return (context, tuple(ids) if len(ids) > 1 else ids[0])


def strings(message) -> tuple:
    return tuple(message.string) if isinstance(message.string, list | tuple) else (message.string,)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    """A copy of the project after makemessages: its catalogues are the committed ones merged with what the
    source marks today."""
    if not (shutil.which("xgettext") and shutil.which("msgmerge")):
        pytest.fail("GNU gettext (xgettext, msgmerge) is needed to extract messages: scripts/test.sh installs it "
                    "(apt-get install gettext).")
    copy = tmp_path_factory.mktemp("extract") / "project"
    shutil.copytree(ROOT, copy, ignore=lambda directory, names: [n for n in names if n in NOT_SOURCE
                                                                 or n.endswith((".sqlite3", ".mo"))])
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", *[f"-l{lang}" for lang in LANGUAGES]],
        cwd=copy, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    return copy


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_marked_message_is_in_the_catalogue(extracted, lang):
    committed = {key(m) for m in catalogue(po_path(lang)) if m.id}
    merged = {key(m) for m in catalogue(po_path(lang, extracted)) if m.id}
    missing = sorted(str(k[1]) for k in merged - committed)
    stale = sorted(str(k[1]) for k in committed - merged)
    assert not missing, f"{lang}: {len(missing)} messages are not in the catalogue: {missing[:15]}. {FIX}"
    assert not stale, f"{lang}: {len(stale)} messages are no longer used: {stale[:15]}. {FIX}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated(lang):
    cat = catalogue(po_path(lang))
    assert cat.num_plurals == NPLURALS[lang], f"{lang}: Plural-Forms must have nplurals={NPLURALS[lang]}"
    problems = []
    for message in cat:
        if not message.id:
            continue
        source = message.id[0] if isinstance(message.id, tuple | list) else message.id
        texts = strings(message)
        if message.fuzzy:
            problems.append(f"fuzzy: {source!r}")
        elif len(texts) != (NPLURALS[lang] if message.pluralizable else 1) or not all(texts):
            problems.append(f"untranslated: {source!r}")
        else:
            wanted = set(PLACEHOLDER.findall(message.id[-1] if message.pluralizable else source))
            for text in texts:
                found = set(PLACEHOLDER.findall(text))
                # A plural form may leave out the count ("one" in Polish), never add or rename a placeholder.
                if not (found <= wanted if message.pluralizable else found == wanted):
                    problems.append(f"placeholders {sorted(found)} instead of {sorted(wanted)}: {source!r}")
    assert not problems, f"{lang}: {len(problems)} problems:\n" + "\n".join(problems[:30]) + f"\n{FIX}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_compiled_catalogue_matches(lang):
    po = catalogue(po_path(lang))
    mo_path = po_path(lang).with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing. {FIX}"
    with mo_path.open("rb") as f:
        mo = read_mo(f)
    compiled = {key(m): strings(m) for m in mo if m.id}
    for message in po:
        if not message.id:
            continue
        assert compiled.get(key(message)) == strings(message), (
            f"{lang}: the .mo is older than the .po ({message.id!r}). {FIX}")
