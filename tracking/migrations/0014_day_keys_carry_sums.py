"""PostgreSQL: the day tables' unique keys carry the sums the reports read (INCLUDE), so a report over a range of
days is an index-only scan of that range instead of a scan of every day row of the network (bench/reports.py:
owner, day, 30 days on 10 M clicks 78 -> 60 ms p50). The models keep the plain unique key: SQLite has no
INCLUDE, and Django would not create a covering unique constraint there at all."""

from django.db import migrations

KEY = "network_id, day, advertiser_id, program_id, affiliate_id, sub1, sub2, sub3, sub4, sub5, country"
# (table, constraint, key columns, carried sums)
CONSTRAINTS = [
    ("tracking_clickday", "click_day_unique", KEY, "clicks, unique_clicks"),
    ("tracking_conversionday", "conversion_day_unique", f"{KEY}, currency", "conversions, sales"),
]


def carry(constraints):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, name, key, sums in constraints:
            include = f" INCLUDE ({sums})" if sums else ""
            schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}, "
                                  f"ADD CONSTRAINT {name} UNIQUE ({key}){include}")
    return run


class Migration(migrations.Migration):

    dependencies = [("tracking", "0013_stripe_billing")]

    operations = [migrations.RunPython(carry(CONSTRAINTS),
                                       carry([(t, n, k, "") for t, n, k, _ in CONSTRAINTS]), elidable=False)]
