"""PostgreSQL: CommissionDay's unique key carries revenue and payout (INCLUDE), so a report over a range of days is
an index-only scan of that range (tracking's migration 0014 does the same for clicks and conversions). The model
keeps the plain unique key: SQLite has no INCLUDE."""

from django.db import migrations

KEY = ("network_id, day, advertiser_id, program_id, affiliate_id, sub1, sub2, sub3, sub4, sub5, country, "
       "currency")


def carry(sums: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        include = f" INCLUDE ({sums})" if sums else ""
        schema_editor.execute("ALTER TABLE commissions_commissionday DROP CONSTRAINT commission_day_unique, "
                              f"ADD CONSTRAINT commission_day_unique UNIQUE ({KEY}){include}")
    return run


class Migration(migrations.Migration):

    dependencies = [("commissions", "0004_commissiondaychange")]

    operations = [migrations.RunPython(carry("revenue, payout"), carry(""), elidable=False)]
