"""On PostgreSQL, the click table becomes partitioned by day (RANGE on created_at) with a DEFAULT partition.

Keys must include the partition key: PRIMARY KEY (id, created_at) and UNIQUE (click_id, created_at). The
latter is click_id uniqueness, because the ingester derives created_at from the click id (a ULID). The
table's other indexes and foreign keys are carried over under their names. SQLite keeps the plain table.
"""

from django.db import migrations

TABLE = "tracking_click"


def partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE])
        if cursor.fetchone():
            return
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s",
            [TABLE],
        )
        # The varchar_pattern_ops twin of the click_id index serves LIKE queries nobody runs: not carried over.
        indexes = [(n, sql) for n, sql in cursor.fetchall() if " UNIQUE " not in sql and not n.endswith("_like")]
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [TABLE],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('p', 'u')", [TABLE]
        )
        keys = {row[0] for row in cursor.fetchall()}
        cursor.execute(f"""
            CREATE SEQUENCE {TABLE}_pid_seq;
            CREATE TABLE {TABLE}_new (LIKE {TABLE} INCLUDING DEFAULTS) PARTITION BY RANGE (created_at);
            ALTER TABLE {TABLE}_new ALTER COLUMN id SET DEFAULT nextval('{TABLE}_pid_seq');
            CREATE TABLE {TABLE}_default PARTITION OF {TABLE}_new DEFAULT;
            INSERT INTO {TABLE}_new SELECT * FROM {TABLE};
            SELECT setval('{TABLE}_pid_seq', COALESCE((SELECT MAX(id) FROM {TABLE}), 0) + 1, false);
            DROP TABLE {TABLE};
            ALTER TABLE {TABLE}_new RENAME TO {TABLE};
            ALTER SEQUENCE {TABLE}_pid_seq OWNED BY {TABLE}.id;
            ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, created_at);
            ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_click_id_key UNIQUE (click_id, created_at);
        """)
        for name, sql in indexes:
            if name not in keys:
                cursor.execute(sql)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
