"""Django's makemessages with the project's defaults: the catalogues under locale/ hold the project's own strings
(not the virtualenv's, the tests' or the benchmarks'), one reference per file, without obsolete entries.

    .venv/bin/python manage.py makemessages -l lv -l ru -l id -l pl

(README "Translations"). Needs GNU gettext (xgettext, msgmerge): scripts/test.sh installs it.
"""

from django.core.management.commands import makemessages

IGNORED = [".venv/*", "venv/*", "tests/*", "bench/*", "static/*", "staticfiles/*", "media/*", "var/*", "docs/*",
           "build/*", "node_modules/*"]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*(options.get("ignore_patterns") or []), *IGNORED]
        options["no_obsolete"] = True
        if options.get("add_location") is None:
            options["add_location"] = "file"
        return super().handle(*args, **options)
