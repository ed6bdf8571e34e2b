"""Many rows of one model, validated and inserted without a model instance per row (the
registry import: 50,000 members in one file).

`RowCleaner.clean(values)` is `Model.full_clean(exclude, validate_unique=False,
validate_constraints=False)` for a row held as a dict (attname -> value), with the same
messages in the same order: each field's own `Field.clean()` (its validators, choices,
max_length), the text rule of `TextCheckedModel` and the model's own `clean()`. What makes it
cheap is that a field's outcome depends on its value alone, and a file repeats a handful of
values per column (villages, labels, yes/no, defaults): each distinct value of each field is
cleaned once per import and the outcome (value or messages) remembered. The model's `clean()`
runs on one scratch instance whose attributes are set from the row, so the rules stay where
they are (models.py) and are not written twice.

`insert_rows()` writes tuples set-based: `executemany` on SQLite; on PostgreSQL `COPY` straight
into the table (with ids drawn from its sequence first when the caller needs them back).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models.base import ModelState

from .text import validate_text

Values = dict[str, Any]  # attname -> value
_M = TypeVar("_M", bound=models.Model)


class RowCleaner:
    def __init__(self, model: type[models.Model], exclude: Iterable[str] = ()) -> None:
        excluded = set(exclude)
        self.model = model
        # The id is unset on a new row: clean_fields() skips it (blank), so do we.
        self.fields = [
            f for f in model._meta.fields if f.name not in excluded and not f.generated and not f.primary_key
        ]
        # TextCheckedModel's rule applies to these (check_instance_text: CharField, TextField).
        self._text_names = {f.name for f in self.fields if isinstance(f, (models.CharField, models.TextField))}
        self.scratch = model()
        # Per field: {raw value: outcome}, see _outcome().
        self._columns: list[tuple[models.Field[Any, Any], str, dict[Any, tuple[Any, list[str] | None, str | None]]]]
        self._columns = [(f, f.attname, {}) for f in self.fields]
        # Defaults as a new instance gets them; callables (a card token, a timestamp) are
        # called for every row.
        self._defaults: Values = {}
        self._default_calls: list[tuple[str, Any]] = []
        for f in model._meta.concrete_fields:
            if f.primary_key:
                continue
            if f.has_default() and callable(f.default):
                self._defaults[f.attname] = None
                self._default_calls.append((f.attname, f.default))
            else:
                self._defaults[f.attname] = f.get_default()

    def new_values(self) -> Values:
        """The values of a new instance (Model()), as a dict."""
        values = self._defaults.copy()
        for attname, default in self._default_calls:
            values[attname] = default()
        return values

    def clean(self, values: Values) -> dict[str, list[str]]:
        """Clean `values` in place (converted values, and whatever the model's clean() sets) and
        return the errors as full_clean's ValidationError.message_dict would hold them: the
        fields' own errors in field order, then the text rule's, then the model's clean()'s."""
        errors: dict[str, list[str]] = {}
        text_errors: list[tuple[str, str]] = []
        for f, attname, cache in self._columns:
            raw = values[attname]
            try:
                outcome = cache.get(raw)
            except TypeError:  # an unhashable value: checked, not remembered
                outcome = self._outcome(f, raw)
            else:
                if outcome is None:
                    outcome = cache[raw] = self._outcome(f, raw)
            value, field_messages, text_message = outcome
            if field_messages is not None:
                errors[f.name] = list(field_messages)
                continue
            if value is not _BLANK:
                values[attname] = value
            if text_message is not None:
                text_errors.append((f.name, text_message))
        for name, message in text_errors:
            errors[name] = [message]
        state = self.scratch.__dict__
        state.update(values)
        try:
            self.scratch.clean()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        values.update({attname: state[attname] for attname in values})
        return errors

    def _outcome(self, f: models.Field[Any, Any], raw: Any) -> tuple[Any, list[str] | None, str | None]:
        """(value to set, or _BLANK; the field's messages or None; the text rule's message or None)."""
        if f.blank and raw in f.empty_values:
            # clean_fields() skips a blank value of a field that may be blank.
            value: Any = _BLANK
            checked = raw
        else:
            try:
                value = checked = f.clean(raw, self.scratch)
            except ValidationError as exc:
                return (raw, exc.messages, None)
        if f.name in self._text_names and isinstance(checked, str) and checked:
            try:
                validate_text(checked, multiline=isinstance(f, models.TextField))
            except ValidationError as exc:
                return (value, None, f"{f.verbose_name}{exc.messages[0]}")
        return (value, None, None)


_BLANK = object()


def present(model: type[models.Model], attname: str, values: Iterable[Any]) -> set[Any]:
    """Which of `values` the model's column `attname` holds (one query on PostgreSQL, see rows_where)."""
    return {value for (value,) in rows_where(model, [attname], attname, values)}


def rows_where(
    model: type[models.Model], names: Sequence[str], attname: str, values: Iterable[Any]
) -> Iterator[tuple[Any, ...]]:
    """The columns `names` of the model's rows whose column `attname` holds one of `values`,
    as tuples read straight from the database cursor (no ORM: 16,667 household numbers as 34
    querysets of 500 cost 0.3 s of query building alone): on PostgreSQL one query with the
    values as one array parameter (= ANY), elsewhere IN lists of 500. For plain columns (text,
    integer, boolean) these are values_list()'s values, except that SQLite gives a boolean
    as 1 or 0 (equal to True and False, which is all the importer's comparisons ask)."""
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return
    columns = ", ".join(connection.ops.quote_name(_model_column(model, name)) for name in names)
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(_model_column(model, attname))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {columns} FROM {table} WHERE {column} = ANY(%s)", [wanted])
            yield from cursor.fetchall()
            return
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            cursor.execute(f"SELECT {columns} FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            yield from cursor.fetchall()


def _model_column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, name  # a concrete column
    return field.column


def instances(model: type[_M], rows: Iterable[Values]) -> list[_M]:
    """Unsaved instances whose attributes are the rows' values, for code that reads model
    attributes and methods (the data-quality checks). No __init__: the values are already
    converted and checked, and Model(**values) costs about 18 µs a row against 1 µs here."""
    pk = model._meta.pk
    assert pk is not None, model
    out = []
    for values in rows:
        instance = model.__new__(model)
        instance.__dict__.update(values)
        instance.__dict__.setdefault(pk.attname, None)
        instance._state = ModelState()
        out.append(instance)
    return out


def db_values(fields: Sequence[models.Field[Any, Any]], rows: Iterable[Values]) -> list[tuple[Any, ...]]:
    """Rows as tuples of database values (Field.get_db_prep_save), each distinct non-text value
    of a field prepared once."""
    columns: list[tuple[models.Field[Any, Any], str, dict[Any, Any]]] = [(f, f.attname, {}) for f in fields]
    out = []
    for values in rows:
        row = []
        for f, attname, prepared in columns:
            value = values[attname]
            if type(value) is str:
                row.append(value)
                continue
            try:
                row.append(prepared[value])
            except KeyError:
                row.append(prepared.setdefault(value, f.get_db_prep_save(value, connection)))
        out.append(tuple(row))
    return out


def insert_rows(
    model: type[models.Model],
    fields: Sequence[models.Field[Any, Any]],
    rows: Sequence[Values],
    *,
    returning: str | None = None,
) -> dict[Any, int]:
    """Insert `rows` (dicts holding every attname of `fields`) into the model's table in the
    caller's transaction; with `returning` (a unique column among `fields`), return
    {that column's value: new id}. Raises IntegrityError as an INSERT would."""
    if not rows:
        return {}
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(_column(fields, f.attname)) for f in fields)
    assert model._meta.pk is not None, model
    pk = connection.ops.quote_name(model._meta.pk.attname)
    ids: dict[Any, int] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with connection.wrap_database_errors:
                if returning is None:
                    cursor.cursor.copy_expert(
                        f"COPY {table} ({columns}) FROM STDIN", _copy_buffer(fields, rows), COPY_CHUNK
                    )
                    return {}
                # The new ids are drawn from the table's own sequence first, then the rows
                # are copied straight into the table with them: no staging table and no
                # INSERT … SELECT … RETURNING (0.5–0.8 s of a county's 16,667 households).
                # Ids drawn for a batch that is rolled back are skipped, as an INSERT's are.
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [model._meta.db_table, model._meta.pk.column, len(rows)],
                )
                new_ids = [id_ for (id_,) in cursor.fetchall()]
                lines = (f"{id_}\t{line}" for id_, line in zip(new_ids, _copy_lines(fields, rows), strict=True))
                cursor.cursor.copy_expert(f"COPY {table} ({pk}, {columns}) FROM STDIN", _CopyReader(lines), COPY_CHUNK)
                return {row[returning]: id_ for row, id_ in zip(rows, new_ids, strict=True)}
        marks = ", ".join(["%s"] * len(fields))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", db_values(fields, rows))
        if returning is None:
            return {}
        key = connection.ops.quote_name(_column(fields, returning))
        wanted = [row[returning] for row in rows]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            cursor.execute(
                f"SELECT {pk}, {key} FROM {table} WHERE {key} IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            ids.update((value, id_) for id_, value in cursor.fetchall())
    return ids


def _column(fields: Sequence[models.Field[Any, Any]], attname: str) -> str:
    column = next(f.column for f in fields if f.attname == attname)
    assert column is not None, attname  # concrete fields have a column
    return column


# Characters read per call by COPY FROM STDIN (psycopg2's default is 8,192).
COPY_CHUNK = 1 << 16


def _copy_buffer(fields: Sequence[models.Field[Any, Any]], rows: Iterable[Values]) -> _CopyReader:
    """Rows in COPY's text format (tab-separated, \\N for NULL, backslash escapes), made as
    COPY reads them: the database inserts (and updates its indexes for) one chunk while the
    next one is written here, on the other core, instead of after the whole text is built."""
    return _CopyReader(_copy_lines(fields, rows))


def _copy_lines(fields: Sequence[models.Field[Any, Any]], rows: Iterable[Values]) -> Iterator[str]:
    """One COPY line per row, from the values: each distinct non-text value of a field is
    prepared (get_db_prep_save) and written as text once."""
    columns: list[tuple[models.Field[Any, Any], str, dict[Any, str]]] = [(f, f.attname, {}) for f in fields]
    for values in rows:
        cells = []
        for f, attname, texts in columns:
            value = values[attname]
            if type(value) is str:
                if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
                    value = _copy_text(value)
                cells.append(value)
                continue
            try:
                cells.append(texts[value])
            except KeyError:
                cells.append(texts.setdefault(value, _copy_text(f.get_db_prep_save(value, connection))))
        yield "\t".join(cells) + "\n"


class _CopyReader:
    """A file to COPY FROM: read() hands out whole lines, about `size` characters at a time
    (COPY accepts chunks of any length)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines

    def read(self, size: int = -1) -> str:
        if size < 0:
            return "".join(self._lines)
        parts = []
        length = 0
        for line in self._lines:
            parts.append(line)
            length += len(line)
            if length >= size:
                break
        return "".join(parts)


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)
