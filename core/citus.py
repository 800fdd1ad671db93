"""The schema's Citus layout, read from the PostgreSQL catalogue: which tables are distributed by `network_id` and
which are reference tables, the rewrite that puts `network_id` in every tenant key, and the check that it is there.

A tenant table is one with a `network_id` column, except the few that every node must read (REFERENCE_WITH_NETWORK).
Every other table (networks, users, Django's and the libraries' own tables) is a reference table. The rewrite and
the check take a DB-API cursor on PostgreSQL; SQLite keeps Django's keys (it is never distributed).
"""

# Tables that carry network_id but are reference tables, with the reason. Everything else with network_id is
# distributed by it.
REFERENCE_WITH_NETWORK = {
    "network_membership": "read on every request to resolve the session's network and role, before any tenant is known",
    "network_apikey": "the bearer key is resolved by its hash before the network is known",
    "programs_linkcode": "the redirect resolves a link code to its network before the network is known",
    "network_verifieddomain": "a verified tracking domain is unique across networks: the one table every verifier "
    "checks",
}

# Unique keys of tenant tables that need not carry network_id, with the reason. None today: even the one-to-one
# fields and global codes became unique within their network (a row's network is its parent's).
KEY_EXCEPTIONS: dict[str, str] = {}

DISTRIBUTION_COLUMN = "network_id"


def _tables(cursor) -> list[str]:
    cursor.execute("""
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname
    """)
    return [row[0] for row in cursor.fetchall()]


def tenant_tables(cursor) -> list[str]:
    """Tables distributed by network_id: every top-level table with that column, bar the reference ones."""
    cursor.execute("""
        SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %s
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND NOT a.attisdropped
        ORDER BY c.relname
    """, [DISTRIBUTION_COLUMN])
    return [row[0] for row in cursor.fetchall() if row[0] not in REFERENCE_WITH_NETWORK]


def reference_tables(cursor) -> list[str]:
    tenant = set(tenant_tables(cursor))
    return [name for name in _tables(cursor) if name not in tenant]


def _foreign_keys(cursor) -> list[tuple]:
    """(table, name, columns, referenced table, referenced columns, deferrable) of every FK in the schema."""
    cursor.execute("""
        SELECT con.conrelid::regclass::text, con.conname,
               ARRAY(SELECT attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute ON attrelid = con.conrelid AND attnum = k.n ORDER BY k.i),
               con.confrelid::regclass::text,
               ARRAY(SELECT attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute ON attrelid = con.confrelid AND attnum = k.n ORDER BY k.i),
               con.condeferrable
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace AND NOT c.relispartition
          AND con.conparentid = 0
        ORDER BY 1, 2
    """)
    return [(t, n, list(cols), rt, list(rcols), d) for t, n, cols, rt, rcols, d in cursor.fetchall()]


def _unique_keys(cursor, tables: list[str]) -> list[tuple]:
    """(table, constraint or index name, kind p/u/i, columns, index definition) of every unique key of `tables`."""
    cursor.execute("""
        SELECT c.relname, COALESCE(con.conname, i.relname), COALESCE(con.contype::text, 'i'),
               ARRAY(SELECT attname FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(n, o)
                     JOIN pg_attribute ON attrelid = c.oid AND attnum = k.n
                     WHERE o <= x.indnkeyatts ORDER BY o),
               pg_get_indexdef(x.indexrelid), x.indnkeyatts
        FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
        LEFT JOIN pg_constraint con
               ON con.conindid = x.indexrelid AND con.conrelid = c.oid AND con.contype IN ('p', 'u')
        WHERE x.indisunique AND c.relname = ANY(%s) AND c.relnamespace = current_schema()::regnamespace
        ORDER BY 1, 2
    """, [tables])
    return [(t, n, k, list(cols), d, natts) for t, n, k, cols, d, natts in cursor.fetchall()]


def key_violations(cursor) -> list[str]:
    """What keeps the schema from distributing: tenant keys without network_id, tenant-to-tenant FKs not composite on
    network_id, reference tables pointing at tenant tables. Empty when Citus can distribute it as it is."""
    tenant = set(tenant_tables(cursor))
    problems = []
    for table, name, kind, columns, _definition, _natts in _unique_keys(cursor, sorted(tenant)):
        if DISTRIBUTION_COLUMN not in columns and name not in KEY_EXCEPTIONS:
            label = {"p": "primary key", "u": "unique constraint", "i": "unique index"}[kind]
            problems.append(f"{table}: {label} {name} ({', '.join(columns)}) lacks {DISTRIBUTION_COLUMN}")
    for table, name, columns, referenced, _rcols, _deferrable in _foreign_keys(cursor):
        if referenced not in tenant:
            continue
        if table not in tenant:
            problems.append(f"{table}: foreign key {name} points from a reference table at tenant table {referenced}")
        elif columns[:1] != [DISTRIBUTION_COLUMN] or len(columns) < 2:
            problems.append(f"{table}: foreign key {name} ({', '.join(columns)}) to {referenced} is not composite on "
                            f"{DISTRIBUTION_COLUMN}")
    return problems


def _with_network(columns: list[str]) -> list[str]:
    return [DISTRIBUTION_COLUMN, *(c for c in columns if c != DISTRIBUTION_COLUMN)]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rewrite_tenant_keys(cursor) -> None:
    """Put network_id first in every primary key, unique constraint and unique index of the tenant tables, and make
    every foreign key between tenant tables composite `(network_id, x_id) -> (network_id, id)`. Constraint names are
    kept. Idempotent: keys that already carry network_id are left alone."""
    tenant = set(tenant_tables(cursor))
    keys = [k for k in _unique_keys(cursor, sorted(tenant)) if DISTRIBUTION_COLUMN not in k[3]]
    rekeyed = {k[0] for k in keys if k[2] == "p"}
    fks = [fk for fk in _foreign_keys(cursor)
           if fk[3] in tenant and (fk[3] in rekeyed or fk[2][:1] != [DISTRIBUTION_COLUMN])]
    strays = [f"{t}.{n}" for t, n, *_ in fks if t not in tenant]
    if strays:
        raise RuntimeError(f"reference tables point at tenant tables: {', '.join(strays)}")
    for table, name, *_ in fks:
        cursor.execute(f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}")
    for table, name, kind, columns, definition, _natts in keys:
        cols = ", ".join(_q(c) for c in _with_network(columns))
        if kind == "p":
            cursor.execute(f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}, ADD CONSTRAINT {_q(name)} "
                           f"PRIMARY KEY ({cols})")
        elif kind == "u":
            include = definition.partition(" INCLUDE ")[2]
            cursor.execute(f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}, ADD CONSTRAINT {_q(name)} "
                           f"UNIQUE ({cols}){' INCLUDE ' + include if include else ''}")
        else:  # a unique index (a conditional or expression UniqueConstraint): network_id goes first in its key
            head, _, rest = definition.partition(" (")
            cursor.execute(f"DROP INDEX {_q(name)}")
            cursor.execute(f"{head} ({DISTRIBUTION_COLUMN}, {rest}")
    for table, name, columns, referenced, rcols, deferrable in fks:
        cols = ", ".join(_q(c) for c in _with_network(columns))
        rcols_sql = ", ".join(_q(c) for c in _with_network(rcols))
        tail = " DEFERRABLE INITIALLY DEFERRED" if deferrable else ""
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} FOREIGN KEY ({cols}) "
                       f"REFERENCES {_q(referenced)} ({rcols_sql}){tail}")


def cluster_workers(cursor) -> list[tuple[str, int]]:
    """(host, port) of every primary worker registered in the coordinator database the cursor is on."""
    cursor.execute("SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND noderole = 'primary' "
                   "ORDER BY nodeid")
    return [(host, int(port)) for host, port in cursor.fetchall()]


def join_cluster(cursor, coordinator: tuple[str, int], workers: list[tuple[str, int]]) -> None:
    """Make the new database the cursor is on (on the coordinator) a Citus database with these workers. A database
    of the same name, with the extension, must already exist on every worker: Citus adds nodes per database."""
    cursor.execute("CREATE EXTENSION IF NOT EXISTS citus")
    cursor.execute("SELECT citus_set_coordinator_host(%s, %s)", list(coordinator))
    for host, port in workers:
        cursor.execute("SELECT citus_add_node(%s, %s)", [host, port])


def distribute(cursor, shard_count: int | None = None) -> tuple[list[str], list[str]]:
    """On a Citus coordinator: every table without network_id (and REFERENCE_WITH_NETWORK) becomes a reference
    table, every tenant table is distributed by network_id, all colocated (so joins and foreign keys on network_id
    stay on one shard). The foreign keys are dropped first and put back after: a local table that points at a new
    reference table would otherwise become a Citus-managed local table, which Citus will not distribute while it
    has an identity column."""
    cursor.execute("""
        SELECT con.conrelid::regclass::text, con.conname, pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace AND NOT c.relispartition
          AND con.conparentid = 0
        ORDER BY 1, 2
    """)
    fks = cursor.fetchall()
    if shard_count:
        cursor.execute(f"SET citus.shard_count = {int(shard_count)}")
    for table, name, _definition in fks:
        cursor.execute(f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}")
    reference, tenant = reference_tables(cursor), tenant_tables(cursor)
    for table in reference:
        cursor.execute("SELECT create_reference_table(%s)", [table])
    for table in tenant:
        cursor.execute("SELECT create_distributed_table(%s, %s, colocate_with => %s)",
                       [table, DISTRIBUTION_COLUMN, tenant[0] if table != tenant[0] else "default"])
    for table, name, definition in fks:
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
    return reference, tenant


def restore_single_keys(cursor) -> None:
    """The reverse of `rewrite_tenant_keys` for migrating back: primary keys on Django's `id` again (the click
    table's `(id, created_at)`) and single-column foreign keys between tenant tables, so older migrations that add
    or alter a foreign key find the unique `id` they reference. Unique constraints keep network_id (a narrower
    key than Django's model states is still enforced per network; migrating forward again rewrites nothing)."""
    tenant = set(tenant_tables(cursor))
    fks = [fk for fk in _foreign_keys(cursor)
           if fk[0] in tenant and fk[3] in tenant and len(fk[2]) == 2 and fk[2][0] == DISTRIBUTION_COLUMN
           and fk[4][:1] == [DISTRIBUTION_COLUMN]]
    for table, name, *_ in fks:
        cursor.execute(f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}")
    for table, name, kind, columns, _definition, _natts in _unique_keys(cursor, sorted(tenant)):
        if kind == "p" and columns[:2] == [DISTRIBUTION_COLUMN, "id"]:
            cols = ", ".join(_q(c) for c in columns[1:])
            cursor.execute(f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}, ADD CONSTRAINT {_q(name)} "
                           f"PRIMARY KEY ({cols})")
    for table, name, columns, referenced, rcols, deferrable in fks:
        tail = " DEFERRABLE INITIALLY DEFERRED" if deferrable else ""
        cursor.execute(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} FOREIGN KEY ({_q(columns[1])}) "
                       f"REFERENCES {_q(referenced)} ({_q(rcols[1])}){tail}")
