"""Multi-row INSERTs of new model instances for the batch paths (an import's commissions, their ledger transactions):
what `bulk_create` writes, without its per-field, per-row preparation, which cost more than the rest of a batch.

A value the driver takes as it is (a str in a text column, an int in an integer or key column, a Decimal, an aware
datetime on PostgreSQL) goes as it is; anything else goes through its field's own `get_db_prep_save`. Statements
run through Django's cursor (its wrappers, the tests' routing guard, see every one).
"""

from datetime import datetime
from decimal import Decimal

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

_STATEMENT_ROWS = 1000  # rows per INSERT statement on PostgreSQL
_SQLITE_PARAMETERS = 32766  # SQLite's limit of parameters per statement


def _plain_type(field: models.Field) -> type | None:
    """The Python type a value of `field` may have to be passed to the driver as it is (None: always prepared)."""
    if isinstance(field, models.JSONField):
        return None
    if isinstance(field, (models.CharField, models.TextField)):
        return str
    if isinstance(field, models.ForeignKey):
        return _plain_type(field.target_field)
    if isinstance(field, models.BooleanField):
        return bool
    if isinstance(field, models.IntegerField):
        return int
    if connection.vendor != "postgresql":
        return None  # SQLite stores decimals and datetimes as text: Django's conversion
    if isinstance(field, models.DecimalField):
        return Decimal
    if isinstance(field, models.DateTimeField):
        return datetime
    return None


class _Columns:
    """A model's columns for an INSERT (every concrete field but the auto primary key) and how to take each value."""

    def __init__(self, model: type[models.Model]):
        fields = [f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, AutoFieldMixin))]
        self.table = model._meta.db_table
        self.names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        self.fields = [(f, f.attname, _plain_type(f)) for f in fields]
        self.stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
        # Keys whose value may only be known from the related instance (saved earlier in the same batch).
        self.relations = [f for f in fields if f.is_relation]

    def row(self, obj: models.Model) -> list:
        values = []
        attrs = vars(obj)
        for field, attname, plain in self.fields:
            value = attrs[attname]
            if value is not None and (plain is None or type(value) is not plain or
                                      (plain is datetime and value.tzinfo is None)):
                value = field.get_db_prep_save(value, connection)
            values.append(value)
        return values


_columns: dict[tuple, _Columns] = {}


def _columns_of(model: type[models.Model]) -> _Columns:
    key = (model, connection.vendor)
    if key not in _columns:
        _columns[key] = _Columns(model)
    return _columns[key]


def rows_insert(model: type[models.Model], objs: list[models.Model], *, suffix: str = "",
                returning: str = "") -> list[tuple]:
    """INSERT `objs` (new instances, their auto fields already set) in as few statements as the database takes;
    `suffix` (e.g. an ON CONFLICT clause) follows the VALUES, `returning` names the columns to return: the rows
    returned, in the order of `objs` for the rows written."""
    if not objs:
        return []
    columns = _columns_of(model)
    rows = [columns.row(obj) for obj in objs]
    tail = f" {suffix}" if suffix else ""
    tail += f" RETURNING {returning}" if returning else ""
    head = f"INSERT INTO {columns.table} ({columns.names}) VALUES "  # noqa: S608 (the model's own names)
    placeholders = "(" + ", ".join(["%s"] * len(columns.fields)) + ")"
    found: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The values inlined by the driver's own quoting (the connection's encoding is UTF-8), one statement
            # per page (what psycopg2's execute_values does), through Django's cursor.
            mogrify = cursor.cursor.mogrify
            for start in range(0, len(rows), _STATEMENT_ROWS):
                values = b", ".join(mogrify(placeholders, row) for row in rows[start:start + _STATEMENT_ROWS])
                cursor.execute(head + values.decode() + tail)
                if returning:
                    found += cursor.fetchall()
            return found
        per_statement = max(1, min(500, _SQLITE_PARAMETERS // len(columns.fields)))
        for start in range(0, len(rows), per_statement):
            part = rows[start:start + per_statement]
            cursor.execute(head + ", ".join([placeholders] * len(part)) + tail, [v for row in part for v in row])
            if returning:
                found += cursor.fetchall()
    return found


def instances_create(model: type[models.Model], objs: list[models.Model]) -> list[models.Model]:
    """`model.objects.bulk_create(objs)` for new instances with an auto primary key: their auto_now(_add) times
    set (one moment for the batch), keys to instances saved earlier taken from them, the new ids set."""
    if not objs:
        return objs
    columns = _columns_of(model)
    now = timezone.now()
    for obj in objs:
        for field in columns.stamped:
            setattr(obj, field.attname, now)
        for field in columns.relations:
            if getattr(obj, field.attname) is None and field.is_cached(obj):
                related = field.get_cached_value(obj)
                if related is not None:
                    if related.pk is None:
                        raise ValueError(f"{model.__name__}.{field.name}: the related object is not saved.")
                    setattr(obj, field.attname, related.pk)
    ids = rows_insert(model, objs, returning=connection.ops.quote_name(model._meta.pk.column))
    db = connection.alias
    for obj, (pk,) in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db
    return objs


class _Maker:
    """How to build a model's new instances from positional values (Django's own fast path, the one `from_db`
    takes), instead of keyword arguments, which cost twice as much on a model of many fields."""

    def __init__(self, model: type[models.Model]):
        fields = model._meta.concrete_fields
        self.attnames = [f.attname for f in fields]
        self.known = set(self.attnames)
        # Defaults computed once when they are plain values; a callable (a JSONField's dict) is called each time.
        self.fixed = {f.attname: f.get_default() for f in fields if not callable(f.default)}
        self.fresh = {f.attname: f for f in fields if callable(f.default)}
        self.relations = {f.name: f for f in fields if f.is_relation}


_makers: dict[type, _Maker] = {}


def instance_new(model: type[models.Model], related: dict | None = None, **values) -> models.Model:
    """`model(**values, **related)` for a batch path: `values` by attribute name (`program_id`, not `program`),
    `related` the saved instances of some foreign keys by field name (their ids are taken, they are cached on the
    instance as the keyword form would). Fields not named take their defaults."""
    maker = _makers.get(model)
    if maker is None:
        maker = _makers[model] = _Maker(model)
    unknown = values.keys() - maker.known
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    related = related or {}
    for name, obj in related.items():
        field = maker.relations[name]
        values[field.attname] = None if obj is None else getattr(obj, field.target_field.attname)
    for attname, field in maker.fresh.items():
        if attname not in values:
            values[attname] = field.get_default()
    merged = maker.fixed | values
    obj = model(*[merged[attname] for attname in maker.attnames])
    cache = obj._state.fields_cache
    for name, related_obj in related.items():
        cache[name] = related_obj
    return obj
