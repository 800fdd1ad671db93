"""The routing guard (tests/sqlguard.py) can fail: it sees a statement over a tenant table without network_id, and a
bare save of an existing tenant row, and lets routed statements through."""

import pytest

from tests import sqlguard

TENANT = frozenset({"tracking_click", "programs_program", "network_advertiser", "programs_trackinglink"})


def unrouted(sql):
    return sqlguard.unrouted_tables(sql, TENANT)


def test_a_select_by_id_alone_is_unrouted_and_with_its_network_routed():
    assert unrouted('SELECT "tracking_click"."id" FROM "tracking_click" WHERE "tracking_click"."id" = %s') == (
        "tracking_click",)
    assert unrouted('SELECT "tracking_click"."id" FROM "tracking_click" WHERE ("tracking_click"."id" = %s AND '
                    '"tracking_click"."network_id" = %s)') == ()
    assert unrouted('SELECT 1 FROM "programs_program" WHERE "programs_program"."network_id" IN (%s, %s)') == ()
    assert unrouted('SELECT 1 FROM "programs_program" U0 WHERE U0."network_id" = ANY(%s)') == ()


def test_a_network_filter_under_or_or_inside_an_expression_does_not_route():
    assert unrouted('SELECT 1 FROM "programs_program" WHERE ("programs_program"."network_id" = %s OR '
                    '"programs_program"."id" = %s)') == ("programs_program",)
    assert unrouted('SELECT 1 FROM "tracking_click" WHERE "tracking_click"."network_id" + 0 = %s') == (
        "tracking_click",)


def test_a_join_routes_a_table_only_on_network_id_to_a_routed_table():
    routed = ('SELECT 1 FROM "programs_program" INNER JOIN "network_advertiser" ON ('
              '"programs_program"."advertiser_id" = "network_advertiser"."id" AND '
              '("network_advertiser"."network_id" = "programs_program"."network_id")) '
              'WHERE "programs_program"."network_id" = %s')
    assert unrouted(routed) == ()
    on_id_only = ('SELECT 1 FROM "programs_program" INNER JOIN "network_advertiser" ON '
                  '"programs_program"."advertiser_id" = "network_advertiser"."id" '
                  'WHERE "programs_program"."network_id" = %s')
    assert unrouted(on_id_only) == ("network_advertiser",)
    # A correlated subquery is routed by its outer table's network.
    assert unrouted('SELECT 1 FROM "programs_program" P WHERE P."network_id" = %s AND EXISTS (SELECT 1 FROM '
                    '"programs_trackinglink" L WHERE L."program_id" = P."id" AND L."network_id" = P."network_id")'
                    ) == ()
    assert unrouted('SELECT 1 FROM "programs_program" P WHERE P."network_id" = %s AND P."id" IN (SELECT '
                    'L."program_id" FROM "programs_trackinglink" L WHERE L."code" = %s)') == (
        "programs_trackinglink",)


def test_a_prepared_statement_is_checked_as_the_statement_it_prepares():
    assert unrouted('PREPARE p1 (bigint) AS SELECT 1 FROM tracking_click c WHERE c.id = $1') == ("tracking_click",)
    assert unrouted('PREPARE p2 (bigint, bigint) AS SELECT 1 FROM tracking_click c WHERE c.network_id = $1 '
                    'AND c.id = $2') == ()


def test_writes_name_their_network():
    assert unrouted('INSERT INTO "programs_program" ("name", "advertiser_id") VALUES (%s, %s)') == (
        "programs_program",)
    assert unrouted('INSERT INTO "programs_program" ("network_id", "name") VALUES (%s, %s) RETURNING '
                    '"programs_program"."id"') == ()
    assert unrouted('UPDATE "programs_program" SET "name" = %s WHERE "programs_program"."id" = %s') == (
        "programs_program",)
    assert unrouted('UPDATE "programs_program" SET "name" = %s WHERE ("programs_program"."id" = %s AND '
                    '"programs_program"."network_id" = %s)') == ()
    assert unrouted('DELETE FROM "tracking_click" WHERE "tracking_click"."id" IN (%s, %s)') == ("tracking_click",)
    # Schema changes are not the app's requests; tables that are not tenant tables need no network.
    assert unrouted('ALTER TABLE "tracking_click" ADD COLUMN "x" int') == ()
    assert unrouted('SELECT 1 FROM "network_network" WHERE "network_network"."id" = %s') == ()


@pytest.mark.postgres
def test_the_capture_sees_what_the_app_runs_on_the_database(world):
    from programs.models import Program
    from tests.factories import make_program

    program = make_program(world.a.advertiser)
    with sqlguard.strict():
        sqlguard.start()
        try:
            assert Program.objects.filter(pk=program.pk).exists()
            assert Program.objects.filter(network=world.a.network, pk=program.pk).exists()
            program.name = "Renamed"
            program.save()
            program.save(update_fields=["name"])
        finally:
            found = sqlguard.stop()
    assert [(v.kind, v.tables) for v in found] == [("statement", ("programs_program",)),
                                                     ("save", ("programs_program",))]
    assert '"programs_program"."id" = %s' in found[0].detail
    assert "test_sql_routing.py" in found[0].where
    assert Program.objects.get(pk=program.pk).name == "Renamed"


@pytest.mark.postgres
def test_the_tests_own_statements_are_not_the_apps(world):
    from programs.models import Program

    sqlguard.start()
    try:
        Program.objects.count()
    finally:
        found = sqlguard.stop()
    assert found == []


def test_a_statement_on_a_day_partition_of_the_clicks_is_one_on_the_click_table():
    saved = sqlguard._tenant
    sqlguard.set_tenant_tables(TENANT)
    try:
        assert sqlguard.verdict("DELETE FROM tracking_click_default WHERE created_at >= %s") == ("tracking_click",)
        assert sqlguard.verdict("SELECT 1 FROM tracking_click_p20261204 c WHERE c.ip_hash = %s") == (
            "tracking_click",)
        assert sqlguard.verdict("SELECT 1 FROM tracking_click_p20261204 c WHERE c.network_id = %s") == ()
        assert sqlguard.verdict("SELECT 1 FROM tracking_clicks_extra WHERE id = %s") == ()  # another name
        assert sqlguard.copy_verdict("COPY tracking_click_p20261204 (click_id) FROM STDIN") == ("tracking_click",)
    finally:
        sqlguard.set_tenant_tables(saved)


def test_copy_into_a_tenant_table_names_its_network_and_a_copied_out_query_is_checked():
    def copy(sql):
        return sqlguard.copy_verdict(sql, TENANT)

    assert copy('COPY "tracking_click" ("click_id", "link_id") FROM STDIN') == ("tracking_click",)
    assert copy("COPY tracking_click (network_id, click_id) FROM STDIN WITH (FORMAT csv)") == ()
    assert copy("COPY tracking_click FROM STDIN") == ()  # every column, network_id included
    assert copy("COPY click_stage (click_id) FROM STDIN") == ()  # not a tenant table
    assert copy("COPY (SELECT click_id FROM tracking_click WHERE id = 1) TO STDOUT") == ("tracking_click",)
    assert copy("COPY (SELECT click_id FROM tracking_click WHERE network_id = 1) TO STDOUT") == ()


@pytest.mark.postgres
def test_the_capture_sees_statements_sent_on_the_drivers_own_cursor(world):
    """psycopg2's execute_values and COPY bypass Django's execute wrappers: the guard checks them itself."""
    import io

    from django.db import connection
    from psycopg2.extras import execute_values

    from tests.factories import make_program

    program = make_program(world.a.advertiser)
    with sqlguard.strict():
        sqlguard.start()
        try:
            with connection.cursor() as cursor:
                execute_values(cursor.cursor, 'UPDATE "programs_program" SET "name" = v.name FROM (VALUES %s) '
                               'AS v(id, name) WHERE "programs_program"."id" = v.id', [(program.pk, "Renamed")])
                execute_values(cursor.cursor, 'UPDATE "programs_program" SET "name" = v.name FROM (VALUES %s) '
                               'AS v(id, name) WHERE "programs_program"."network_id" = %s AND '
                               '"programs_program"."id" = v.id'.replace("%s AND", f"{program.network_id} AND"),
                               [(program.pk, "Renamed again")])
                cursor.cursor.copy_expert('COPY "tracking_click" ("click_id") FROM STDIN', io.StringIO(""))
                cursor.cursor.copy_expert('COPY "tracking_click" ("network_id", "click_id") FROM STDIN',
                                          io.StringIO(""))
        finally:
            found = sqlguard.stop()
    assert [(v.kind, v.tables) for v in found] == [("statement", ("programs_program",)),
                                                     ("statement", ("tracking_click",))]
    assert "VALUES (%s)" in found[0].detail and "COPY" in found[1].detail
    assert "test_sql_routing.py" in found[0].where and "test_sql_routing.py" in found[1].where
    program.refresh_from_db()
    assert program.name == "Renamed again"  # the statements ran as they were


def test_the_admins_exception_covers_its_reads_and_not_its_writes():
    admin = ["django.contrib.admin.options.changelist_view", "tests.core.test_sql_routing.test"]
    where = "contrib/admin.py:1 (django.contrib.admin.options.changelist_view)"
    tables = ("programs_program",)
    assert sqlguard._exempt(admin, tables, where, 'SELECT COUNT(*) FROM "programs_program"')
    assert not sqlguard._exempt(admin, tables, where, 'DELETE FROM "programs_program" WHERE "id" IN (%s)')
    assert not sqlguard._exempt(admin, tables, where, 'UPDATE "programs_program" SET "name" = %s WHERE "id" = %s')
    # A user's networks are read from the rows that name it, by the one function allowed to read them so.
    pointing = ["network.routing._networks_pointing_at"]
    assert sqlguard._exempt(pointing, ("network_auditlog",), where, "SELECT DISTINCT network_id FROM network_auditlog")
    assert not sqlguard._exempt(pointing, ("programs_program",), where, 'SELECT "id" FROM "programs_program"')
