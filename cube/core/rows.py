"""Rows on the hot paths without the ORM's query compiler.

Django compiles every queryset afresh: for a one-row lookup that costs about 0.3-0.5 ms of CPU, several
times what SQLite or PostgreSQL spend answering it. Every file request authenticates a token and finds an
object with its owner, every upload checks its folders and inserts a row, so on a 2-core server those
compilations were a third of the request. Here the SQL is built once per model and field from the model's
own metadata (so it follows the schema and both databases' quoting), values go through the same database
converters the ORM applies, and callers get ordinary model instances, a related object cached as
``select_related`` would. Only simple equality lookups live here; anything richer belongs to the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connections, transaction
from django.db.models import Model

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Columns:
    model: type[Model]
    names: tuple[str, ...]  # attnames, in concrete field order (what Model.from_db expects)
    sql: str  # the quoted column list, table-qualified
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]  # (index, converters, expression)

    def instance(self, alias: str, values: Sequence[Any]) -> Model:
        connection = connections[alias]
        if self.converters:
            values = list(values)
            for i, funcs, expression in self.converters:
                for func in funcs:
                    values[i] = func(values[i], expression, connection)
        return self.model.from_db(alias, self.names, values)


@cache
def _columns(model: Any, alias: str, table_alias: str) -> _Columns:
    connection = connections[alias]
    qn = connection.ops.quote_name
    fields = model._meta.concrete_fields
    converters = []
    for i, field in enumerate(fields):
        col = field.get_col(table_alias)
        funcs = tuple(connection.ops.get_db_converters(col) + col.get_db_converters(connection))
        if funcs:
            converters.append((i, funcs, col))
    return _Columns(model, tuple(f.attname for f in fields),
                    ", ".join(f"{table_alias}.{qn(f.column)}" for f in fields), tuple(converters))


def _column_of(model: type[Model], field: str) -> str:
    meta = model._meta
    return meta.pk.column if field == "pk" else meta.get_field(field).column  # type: ignore[union-attr]


@cache
def _select_sql(model: Any, field: str, related: str | None,
                alias: str) -> tuple[str, _Columns, _Columns | None]:
    qn = connections[alias].ops.quote_name
    own = _columns(model, alias, "t0")
    table = f"{qn(model._meta.db_table)} t0"
    rel_cols = None
    if related is not None:
        fk = model._meta.get_field(related)
        target = fk.related_model
        rel_cols = _columns(target, alias, "t1")  # type: ignore[arg-type]
        table += (f" INNER JOIN {qn(target._meta.db_table)} t1"  # type: ignore[union-attr]
                  f" ON t1.{qn(target._meta.pk.column)} = t0.{qn(fk.column)}")  # type: ignore[union-attr]
    select = f"{own.sql}, {rel_cols.sql}" if rel_cols else own.sql
    return f"SELECT {select} FROM {table} WHERE t0.{qn(_column_of(model, field))}", own, rel_cols  # noqa: S608


def _build(row: Sequence[Any], own: _Columns, rel: _Columns | None, related: str | None, alias: str) -> Any:
    n = len(own.names)
    obj = own.instance(alias, row[:n])
    if rel is not None and related is not None:
        obj._meta.get_field(related).set_cached_value(obj, rel.instance(alias, row[n:]))  # type: ignore[union-attr]
    return obj


_INT64 = range(-(2**63), 2**63)


def _comparable(value: Any) -> bool:
    """Whether the database can take value at all: an integer past 64 bits (an id in a URL is any run of
    digits) matches no row, but SQLite's driver raises OverflowError on it (the ORM checks this itself)."""
    return not isinstance(value, int) or value in _INT64


def get_one(model: Any, field: str, value: Any, *, related: str | None = None, using: str = "default") -> Any:
    """The row whose ``field`` equals value (field unique, or 'pk'), or None; with ``related`` (a foreign
    key, as in select_related) the related row comes in the same query."""
    if not _comparable(value):
        return None
    base, own, rel = _select_sql(model, field, related, using)
    with connections[using].cursor() as cursor:
        cursor.execute(f"{base} = %s", [value])
        row = cursor.fetchone()
    return None if row is None else _build(row, own, rel, related, using)


def get_in(model: Any, field: str, values: Iterable[Any], *, using: str = "default") -> list[Any]:
    """Every row whose ``field`` is one of values."""
    wanted = [v for v in values if _comparable(v)]
    if not wanted:
        return []
    base, own, _ = _select_sql(model, field, None, using)
    with connections[using].cursor() as cursor:
        cursor.execute(f"{base} IN ({', '.join(['%s'] * len(wanted))})", wanted)
        rows = cursor.fetchall()
    return [_build(row, own, None, None, using) for row in rows]


@cache
def _exists_sql(model: Any, field: str, alias: str) -> str:
    qn = connections[alias].ops.quote_name
    return f"SELECT 1 FROM {qn(model._meta.db_table)} WHERE {qn(_column_of(model, field))} = %s LIMIT 1"  # noqa: S608


def exists(model: Any, field: str, value: Any, *, using: str = "default") -> bool:
    if not _comparable(value):
        return False
    with connections[using].cursor() as cursor:
        cursor.execute(_exists_sql(model, field, using), [value])
        return cursor.fetchone() is not None


@cache
def _insert_sql(model: Any, alias: str) -> tuple[str, tuple[Any, ...]]:
    qn = connections[alias].ops.quote_name
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    sql = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
           f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {qn(meta.pk.column)}")  # type: ignore[union-attr]
    return sql, fields


def insert(obj: Model, *, using: str = "default") -> Model:
    """INSERT obj (a new instance with an automatic primary key) and return it saved, as ``save()`` would
    (defaults and auto_now_add filled in by the fields themselves). No signals are sent.

    One statement is atomic by itself: outside a transaction it runs in autocommit (no BEGIN and COMMIT
    round trips); inside one, in a savepoint, so that a failure (a unique path taken) leaves the caller's
    transaction usable, as ``transaction.atomic()`` around ``create()`` would."""
    connection = connections[using]
    sql, fields = _insert_sql(obj.__class__, using)
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with transaction.atomic(using) if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(sql, values)
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = using
    return obj
