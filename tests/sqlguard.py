"""The routing guard (issue 19): on PostgreSQL, every SQL statement a covered test runs is parsed (sqlglot) and the
test fails on a statement over a tenant table (core.citus.tenant_tables) without a network_id condition for that
table, and on a bare save() of an existing tenant row. Reviewed exceptions, each with its reason, are below.

A table counts as routed in a statement when its `network_id` is compared (`=`, `IN`, `= ANY`) in a top-level AND of
the WHERE or a JOIN's ON with something that holds no column (a parameter, a literal, a subquery), or with the
`network_id` of a table that is routed itself (a join, or a correlated subquery's outer table). An INSERT must name
`network_id` among its columns. Schema changes (DDL) and TRUNCATE are not statements of the app's requests.
Statements sent on psycopg2's own cursor are checked too: `execute_values` (its template) and COPY (`copy_verdict`).
"""

import contextlib
import re
import sys
import threading
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from core.citus import DISTRIBUTION_COLUMN

# The test directories (and files) whose statements are checked: the API, web pages, the redirect, the postbacks,
# the ingester and the tasks.
COVERED = (
    "tests/network/", "tests/programs/", "tests/tracking/", "tests/commissions/", "tests/payouts/",
    "tests/reports/", "tests/web/", "tests/imports/", "tests/core/test_tasks.py",
)


@dataclass(frozen=True)
class Exempt:
    """A reviewed exception: a statement over `tables` run from within `code` (a `module.function` on the stack,
    or a module prefix ending in '.') is allowed, for `reason`."""

    code: str
    tables: frozenset | None  # None: any tenant table
    reason: str
    reads_only: bool = False  # True: a write (INSERT, UPDATE, DELETE) from that code must still be routed


# Reviewed exceptions: statements that are cross-network by design (operator-of-installation maintenance). Each
# entry names the code that runs it, the tables, and why it may touch every network.
_SWEEP = ("A beat task's sweep over every network (operator-of-installation maintenance): it reads which rows are "
          "due with their network ids, then works on each row on its own network.")
_OLD_MESSAGE = ("A task message queued before tasks carried the network id (one deploy's backlog): the network is read "
                "by the row's id once, then every statement names it.")

EXCEPTIONS: list[Exempt] = [
    Exempt("django.contrib.admin.", None,
           "The Django admin is the installation operator's tool (superusers): its lists, counts and filters span "
           "every network, and so do the reads of its delete confirmation. Not a request path of networks' members. "
           "Its writes (saves, deletes and their cascades) name the network like any other.",
           reads_only=True),
    Exempt("tracking.stripe_billing.dangerously_stripe_integration_for_token",
           frozenset({"tracking_stripeintegration", "network_advertiser"}),
           "Stripe's webhook URL carries the integration's token, which names the network: read by token alone."),
    Exempt("network.routing._networks_pointing_at",
           frozenset({"network_auditlog", "network_announcement", "payouts_payoutbatch", "programs_partnership"}),
           "Deleting a user: the networks of the rows that name it (an actor, an author, who decided) are read from "
           "those rows, a former member's network included; then every statement of the cascade names them. "
           "A read of network ids by an indexed key, once per key and user batch."),
    Exempt("network.daily.fold_all", None, _SWEEP),
    Exempt("tracking.services.conversions_attribute_overdue", frozenset({"tracking_conversion"}), _SWEEP),
    Exempt("commissions.selectors.conversions_without_commissions",
           frozenset({"tracking_conversion", "commissions_commission"}), _SWEEP),
    Exempt("commissions.services.commissions_due", frozenset({"commissions_commission"}), _SWEEP),
    Exempt("payouts.tasks.payout_batches_resume_stale", frozenset({"payouts_payoutbatch"}), _SWEEP),
    Exempt("commissions.services.conversion_networks", frozenset({"tracking_conversion"}), _OLD_MESSAGE),
    Exempt("tracking.services._conversion_network", frozenset({"tracking_conversion"}), _OLD_MESSAGE),
    Exempt("tracking.tasks_outbound._delivery_network", frozenset({"tracking_delivery"}), _OLD_MESSAGE),
    Exempt("payouts.batches._batch_network", frozenset({"payouts_payoutbatch"}), _OLD_MESSAGE),
    Exempt("payouts.tasks._payout_network", frozenset({"payouts_payout"}), _OLD_MESSAGE),
    Exempt("commissions.tasks._commission_networks", frozenset({"commissions_commission"}), _OLD_MESSAGE),
    Exempt("tracking.imports.conversion_import_network_id_unscoped", frozenset({"tracking_conversionimport"}),
           _OLD_MESSAGE),
    Exempt("commissions.cpc.cpc_due_rollups", None, _SWEEP),
    Exempt("tracking.partitions.ensure_partition", frozenset({"tracking_click"}),
           "Making a day's partition moves that day's clicks of every network out of the DEFAULT partition "
           "(operator-of-installation maintenance, under a lock of the whole table)."),
    Exempt("tracking.partitions.purge_expired", frozenset({"tracking_click"}),
           "A day's partition past every network's retention is counted, then dropped whole: every network's clicks "
           "of that day go, as retention says (a beat task's maintenance)."),
    Exempt("tracking.pixel.dangerously_advertiser_for_pixel_token", frozenset({"tracking_pixeltoken",
                                                                             "network_advertiser"}),
           "The pixel's token names the advertiser (and so the network) before the network is known."),
    Exempt("payouts.webhooks._network_of_transfer", frozenset({"payouts_payout"}),
           "Stripe's platform webhook for a transfer made by hand (no metadata): its payout is found by the "
           "transfer's id, across networks."),
    Exempt("payouts.services.stripe_account_updated", frozenset({"payouts_payoutmethod"}),
           "Stripe Connect's platform webhook names the connected account, not the network: the methods with that "
           "account are updated wherever they are."),
    *(Exempt(f"{app}.migrations.", None, "Migrations (data migrations included) run over every network's rows.")
      for app in ("django.db", "network", "programs", "tracking", "commissions", "payouts", "reports")),
]

# Bare save() of an existing tenant row allowed here, with the reason: `module.function` -> reason.
SAVE_EXCEPTIONS: dict[str, str] = {}


@dataclass
class Violation:
    kind: str  # "statement" or "save"
    detail: str
    tables: tuple
    where: str

    def __str__(self) -> str:
        return f"{self.kind} over {', '.join(self.tables)}: {self.detail}\n    at {self.where}"


class _State(threading.local):
    active = False


_state = _State()
_violations: list[Violation] = []
_lock = threading.Lock()
_tenant: frozenset = frozenset()
_tenant_re: re.Pattern | None = None
_verdicts: dict[str, tuple] = {}


# The click table's day partitions and its DEFAULT partition (tracking.partitions) hold its rows: a statement on
# one of them is a statement on the click table.
_PARTITION_RE = re.compile(r"^(tracking_click)_(?:p\d{8}|default)$")


def _partitioned(name: str) -> str:
    found = _PARTITION_RE.match(name)
    return found.group(1) if found else name


def set_tenant_tables(names) -> None:
    global _tenant, _tenant_re
    _tenant = frozenset(names)
    words = "|".join(re.escape(n) for n in sorted(_tenant, key=len, reverse=True))
    _tenant_re = re.compile(r"\b(?:" + words + r")(?:_p\d{8}|_default)?\b") if _tenant else None
    _verdicts.clear()


# ---------------------------------------------------------------------------------------------------------------
# The decision, over a statement's text.

_SKIP = (exp.Create, exp.Drop, exp.Alter, exp.Command, exp.TruncateTable, exp.Analyze)


def unrouted_tables(sql: str, tenant: frozenset | None = None) -> tuple:
    """The tenant tables `sql` reads or writes without a network_id condition (empty: routed)."""
    tenant = _tenant if tenant is None else tenant
    try:
        trees = sqlglot.parse(_placeholders(sql), dialect="postgres")
    except sqlglot.errors.SqlglotError:
        return ("(unparsed statement)",)
    found = []
    for tree in trees:
        if tree is None or isinstance(tree, _SKIP):
            continue
        found.extend(_check_tree(tree, tenant))
    return tuple(sorted(set(found)))


_PREPARE = re.compile(r"^\s*PREPARE\s+\w+\s*(?:\([^)]*\))?\s+AS\s+(.*)$", re.IGNORECASE | re.DOTALL)


def _placeholders(sql: str) -> str:
    # A prepared statement (the fast postback's) is checked as the statement it prepares; its $n are parameters.
    prepared = _PREPARE.match(sql)
    if prepared:
        sql = re.sub(r"\$\d+", "%s", prepared.group(1))
    return re.sub(r"%\(\w+\)s", "%s", sql)


_BLOCKS = (exp.Select, exp.Update, exp.Delete, exp.Insert)


def _check_tree(tree, tenant) -> list[str]:
    envs: dict[int, dict] = {}
    problems = []
    for node in tree.walk():
        if not isinstance(node, _BLOCKS):
            continue
        outer = {}
        parent = node.parent
        while parent is not None:
            if id(parent) in envs:
                outer = envs[id(parent)]
                break
            parent = parent.parent
        env, bad = _check_block(node, tenant, outer)
        envs[id(node)] = {**outer, **env}
        problems.extend(bad)
    return problems


def _table_name(table) -> str:
    return _partitioned(table.name) if isinstance(table, exp.Table) else ""


def _block_sources(node) -> dict[str, str]:
    """alias -> table name of the tables this block reads or writes directly."""
    tables = []
    if isinstance(node, exp.Select):
        if node.args.get("from_") is not None or node.args.get("from") is not None:
            frm = node.args.get("from_") or node.args.get("from")
            tables.append(frm.this)
        tables.extend(join.this for join in node.args.get("joins") or [])
    elif isinstance(node, exp.Update | exp.Delete):
        tables.append(node.this)
        frm = node.args.get("from_") or node.args.get("from")
        if frm is not None:
            tables.append(frm.this)
        tables.extend(node.args.get("using") or [])
        tables.extend(join.this for join in node.args.get("joins") or [])
    sources = {}
    for table in tables:
        if isinstance(table, exp.Table):
            sources[table.alias_or_name] = _partitioned(table.name)
    return sources


def _conjuncts(node):
    conditions = []
    where = node.args.get("where")
    if where is not None:
        conditions.append(where.this)
    for join in node.args.get("joins") or []:
        if join.args.get("on") is not None:
            conditions.append(join.args["on"])
    out = []
    while conditions:
        cond = conditions.pop()
        if isinstance(cond, exp.Paren):
            conditions.append(cond.this)
        elif isinstance(cond, exp.And):
            conditions.extend([cond.this, cond.expression])
        else:
            out.append(cond)
    return out


def _unparen(e):
    while isinstance(e, exp.Paren):
        e = e.this
    return e


def _is_network_column(e) -> bool:
    return isinstance(e, exp.Column) and e.name == DISTRIBUTION_COLUMN


def _holds_no_column(e) -> bool:
    """True when `e` refers to no column of this block (columns inside a subquery belong to the subquery)."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Column):
            return False
        if isinstance(node, exp.Subquery | exp.Select):
            continue
        stack.extend(node.iter_expressions())
    return True


def _check_block(node, tenant, outer) -> tuple[dict, list[str]]:
    if isinstance(node, exp.Insert):
        target = node.this
        columns = []
        if isinstance(target, exp.Schema):
            columns = [c.name for c in target.expressions]
            target = target.this
        name = _table_name(target)
        if name in tenant and DISTRIBUTION_COLUMN not in columns:
            return {}, [name]
        return {}, []
    sources = _block_sources(node)
    routed = dict.fromkeys(sources, False)

    def resolve(column):
        alias = column.table
        if alias:
            if alias in routed:
                return alias
            if alias in outer:
                return ("outer", alias)
            return None
        if len(sources) == 1:
            return next(iter(sources))
        return None

    def constant_routes(cond) -> set:
        """The tables a condition routes to a constant network, whatever else it says (AND: either side's, OR:
        both sides')."""
        cond = _unparen(cond)
        if isinstance(cond, exp.And):
            return constant_routes(cond.this) | constant_routes(cond.expression)
        if isinstance(cond, exp.Or):
            return constant_routes(cond.this) & constant_routes(cond.expression)
        if isinstance(cond, exp.EQ | exp.NullSafeEQ):
            sides = [_unparen(cond.this), _unparen(cond.expression)]
            return {resolve(c) for c, other in (sides, sides[::-1])
                    if _is_network_column(c) and not _is_network_column(other) and _holds_no_column(other)}
        if isinstance(cond, exp.In) and _is_network_column(_unparen(cond.this)) \
                and all(_holds_no_column(x) for x in cond.expressions):
            return {resolve(_unparen(cond.this))}
        return set()

    edges = []
    for cond in _conjuncts(node):
        if isinstance(cond, exp.Or):
            for mine in constant_routes(cond):
                if mine in routed:
                    routed[mine] = True
        elif isinstance(cond, exp.EQ | exp.NullSafeEQ):
            sides = [_unparen(cond.this), _unparen(cond.expression)]
            for column, other in (sides, sides[::-1]):
                if not _is_network_column(column):
                    continue
                mine = resolve(column)
                if mine is None:
                    continue
                if _is_network_column(other):
                    edges.append((mine, resolve(other)))
                elif _holds_no_column(other) and mine in routed:
                    routed[mine] = True
        elif isinstance(cond, exp.In):
            column = _unparen(cond.this)
            if _is_network_column(column) and not cond.args.get("is_global"):
                mine = resolve(column)
                if mine in routed and all(_holds_no_column(x) for x in cond.expressions):
                    routed[mine] = True

    def is_routed(key):
        if isinstance(key, tuple):
            return outer.get(key[1], False)
        return routed.get(key, False)

    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if a is None or b is None:
                continue
            for x, y in ((a, b), (b, a)):
                if isinstance(x, str) and not routed[x] and is_routed(y):
                    routed[x] = True
                    changed = True
    bad = [sources[alias] for alias, ok in routed.items() if not ok and sources[alias] in tenant]
    # A table that is not a tenant table needs no route: it counts as routed for the joins of subqueries.
    env = {alias: ok or sources[alias] not in tenant for alias, ok in routed.items()}
    return env, bad


def verdict(sql: str) -> tuple:
    if _tenant_re is None or not _tenant_re.search(sql):
        return ()
    found = _verdicts.get(sql)
    if found is None:
        found = _verdicts[sql] = unrouted_tables(sql)
    return found


# ---------------------------------------------------------------------------------------------------------------
# Capture: a wrapper on every connection, active only while a covered test's body runs.

def _stack_names():
    """`module.function` of every frame on the stack, innermost first, and the innermost frame of the project."""
    frame = sys._getframe(2)
    names, project = [], []
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        names.append(f"{module}.{frame.f_code.co_name}")
        if len(project) < 2 and module.split(".")[0] in _PROJECT and module != "tests.sqlguard" \
                and f"{module}.{frame.f_code.co_name}" not in _PASS_THROUGH \
                and not (module.endswith("models") and frame.f_code.co_name in _MODEL_PASS_THROUGH):
            path = frame.f_code.co_filename.rsplit("/", 2)
            project.append(f"{path[-2]}/{path[-1]}:{frame.f_lineno} ({module}.{frame.f_code.co_name})")
        frame = frame.f_back
    # The innermost frame of the project is the statement's; the next one says who called it.
    return names, " <- ".join(project)


# Project modules that only pass a call on (middleware, wrappers): the statement is not theirs.
_PASS_THROUGH = {"core.dbretry.__call__", "network.tenancy.dispatch", "core.middleware.__call__",
                 "network.middleware.__call__", "network.routing.routed_delete", "network.routing.delete_batch",
                 "network.routing.update_batch", "network.routing.routed_related_objects",
                 "network.routing.get_prefetch_querysets", "network.routing.routed_collect"}
# A model's own save/delete/refresh: the statement is its caller's.
_MODEL_PASS_THROUGH = {"save", "delete", "refresh_from_db", "save_every_field", "_do_update"}
_PROJECT = {"network", "programs", "tracking", "commissions", "payouts", "reports", "core", "config", "tests"}


class _Strict(threading.local):
    on = False


_strict = _Strict()


def _by_a_test(where: str) -> bool:
    return not _strict.on and where.split(" <- ")[0].split("(")[-1].startswith("tests.")


@contextlib.contextmanager
def strict():
    """Check the test's own statements too (the guard's own tests)."""
    _strict.on = True
    try:
        yield
    finally:
        _strict.on = False


def _is_read(sql: str) -> bool:
    return (sql.lstrip().split(None, 1) or [""])[0].upper() in ("SELECT", "WITH")


def _exempt(names, tables, where, sql: str = "") -> bool:
    if _by_a_test(where):
        # The test's own statements (its setup and its assertions over the rows) are not the app's: they never
        # reach production. What the app runs from a test is checked, because its innermost frame is the app's.
        return True
    for rule in EXCEPTIONS:
        if rule.tables is not None and not set(tables) <= rule.tables:
            continue
        if rule.reads_only and not _is_read(sql):
            continue
        if any(n == rule.code or (rule.code.endswith(".") and n.startswith(rule.code)) for n in names):
            return True
    return False


def _record(violation: Violation) -> None:
    with _lock:
        _violations.append(violation)


def _check(sql: str, tables: tuple) -> None:
    names, where = _stack_names()
    if not _exempt(names, tables, where, sql):
        text = " ".join(sql.split())
        if len(text) > 700:  # the selected columns are long and tell little: keep the head and the tail
            text = f"{text[:160]} ... {text[-520:]}"
        _record(Violation("statement", text, tables, where))


def execute_wrapper(execute, sql, params, many, context):
    if _guarded:
        tables = verdict(sql)
        if tables:
            _check(sql, tables)
    return execute(sql, params, many, context)


# Statements sent on the driver's own cursor, past Django's wrappers: psycopg2's execute_values (its template is
# checked, `VALUES %s` read as one row) and COPY (a tenant table's rows copied in must carry network_id; a query
# copied out is checked as the query).
_COPY_TABLE_RE = re.compile(r"^\s*COPY\s+([\w\".]+)\s*(?:\(([^)]*)\))?\s+FROM\b", re.IGNORECASE | re.DOTALL)
_COPY_QUERY_RE = re.compile(r"^\s*COPY\s*\((.*)\)\s*TO\b", re.IGNORECASE | re.DOTALL)


def copy_verdict(sql: str, tenant: frozenset | None = None) -> tuple:
    """The tenant tables a COPY statement touches without routing: COPY t (columns) FROM without network_id among
    the columns (or with no column list, which takes every column, network_id included, and so routes).
    (sqlglot reads COPY as an opaque command, which `unrouted_tables` skips.)"""
    tenant = _tenant if tenant is None else tenant
    if found := _COPY_QUERY_RE.match(sql):
        return unrouted_tables(found.group(1), tenant)
    if found := _COPY_TABLE_RE.match(sql):
        table = _partitioned(found.group(1).replace('"', "").split(".")[-1])
        columns = {c.strip().strip('"') for c in (found.group(2) or "").split(",") if c.strip()}
        if table in tenant and columns and DISTRIBUTION_COLUMN not in columns:
            return (table,)
    return ()


def _raw_text(sql) -> str:
    if isinstance(sql, bytes):
        return sql.decode()
    return sql if isinstance(sql, str) else sql.as_string(None)


def _checked_execute_values(original):
    def execute_values(cur, sql, argslist, template=None, page_size=100, fetch=False):
        if _guarded:
            text = _raw_text(sql).replace("%s", "(%s)", 1) if template is None else _raw_text(sql).replace(
                "%s", _raw_text(template), 1)
            if tables := verdict(text):
                _check(text, tables)
        return original(cur, sql, argslist, template=template, page_size=page_size, fetch=fetch)

    execute_values._guarded = True
    return execute_values


def _guard_cursor_class():
    import psycopg2.extensions

    class GuardCursor(psycopg2.extensions.cursor):
        """The driver's cursor with its COPY calls checked (Django's own statements go through execute_wrapper)."""

        def copy_expert(self, sql, file, size=8192):
            if _guarded and (tables := copy_verdict(_raw_text(sql))):
                _check(_raw_text(sql), tables)
            return super().copy_expert(sql, file, size)

    return GuardCursor


_guarded = False


def start() -> None:
    global _guarded
    with _lock:
        _violations.clear()
    _guarded = True


def stop() -> list[Violation]:
    global _guarded
    _guarded = False
    with _lock:
        found = list(_violations)
        _violations.clear()
    return found


def install(tenant_tables) -> None:
    """Once a session: the wrapper on every connection (threads' too) and the bare-save check on tenant models."""
    from django.db import connections
    from django.db.backends.signals import connection_created

    set_tenant_tables(tenant_tables)

    import psycopg2.extras

    if not getattr(psycopg2.extras.execute_values, "_guarded", False):
        psycopg2.extras.execute_values = _checked_execute_values(psycopg2.extras.execute_values)
    cursor_class = _guard_cursor_class()

    def add(connection):
        if execute_wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(execute_wrapper)
        if connection.vendor == "postgresql" and connection.connection is not None:
            connection.connection.cursor_factory = cursor_class

    def on_created(sender, connection, **kwargs):
        add(connection)

    connection_created.connect(on_created, weak=False, dispatch_uid="tests.sqlguard")
    for alias in connections:
        add(connections[alias])
    _install_save_check()


def _install_save_check() -> None:
    from network.models import TenantModel

    if getattr(TenantModel._do_update, "_guarded", False):
        return
    original = TenantModel._do_update

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        if _guarded and update_fields is None and not self._state.adding:
            names, where = _stack_names()
            if not any(name in SAVE_EXCEPTIONS for name in names) and not _by_a_test(where):
                _record(Violation("save", f"bare save() of an existing {type(self).__name__} (no update_fields)",
                                  (self._meta.db_table,), where))
        return original(self, base_qs, using, pk_val, values, update_fields, forced_update)

    _do_update._guarded = True
    TenantModel._do_update = _do_update


def is_covered(nodeid: str) -> bool:
    return nodeid.startswith(COVERED)
