"""Set-based matching of a chunk's records to the registry (STYLE.md: never a query per row).

The records go into a temporary staging table in one bulk statement (PostgreSQL: COPY; SQLite:
one executemany), and one INSERT … SELECT joins them by ID number to the members of households
in the department's county, writing ScreeningRow with the member, household, village and town
(NULL for people not in the county's registry). Callers hold the chunk's lock and run this
inside their transaction.
"""

import datetime
import io
from collections.abc import Sequence
from typing import Any

from django.db import connection

from .models import ScreeningRow

STAGE = "screening_stage"


def insert_rows(
    *,
    upload_id: int,
    department_id: int,
    period: datetime.date,
    chunk: int,
    county_path: str,
    value_keys: Sequence[str],
    amount: str,
    event_date: str,
    code: str,
    rows: Sequence[tuple[Any, ...]],
) -> tuple[int, list[int]]:
    """Stage `rows` (parsing.ChunkResult.records: row number, record key, ID number, name, then
    one text per value key) and write them as ScreeningRow in one INSERT … SELECT; return how
    many matched a member of the county, and the row numbers of records not written because
    the upload already has them (written by another chunk: services.settle_duplicates).
    The typed columns and `data` (every value key) are built by the database from the staged
    texts. Needs the caller's transaction."""
    table = ScreeningRow._meta.db_table
    postgres = connection.vendor == "postgresql"
    staged = [f"v{i}" for i in range(len(value_keys))]
    column_of = dict(zip(value_keys, staged, strict=True))
    columns = ["row_number", "record_key", "id_number", "name", *staged]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
        definition = ", ".join(
            ["row_number integer", "record_key text", "id_number text", "name text", *(f"{c} text" for c in staged)]
        )
        if postgres:
            # A chunk's commit need not wait for the disk: finalize's commit (synchronous) comes
            # after every chunk's in the log and flushes them with it; a crash before that loses
            # only chunks that are not marked done, and they are run again.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            # The key-ordered insert sorts the chunk and keeps what it wrote: in memory, not on disk.
            cursor.execute("SET LOCAL work_mem TO '64MB'")
            cursor.execute(f"CREATE TEMP TABLE {STAGE} ({definition}) ON COMMIT DROP")
            buffer = io.StringIO()
            write = buffer.write
            tabs = len(columns) - 2
            for row in rows:
                # Most rows: no NULL and nothing to escape, checked on the joined line at once.
                try:
                    rest = "\t".join(row[1:])
                except TypeError:  # a NULL
                    rest = ""
                if rest and rest.count("\t") == tabs and not ("\\" in rest or "\n" in rest or "\r" in rest):
                    write(f"{row[0]}\t{rest}\n")
                else:
                    write("\t".join(map(_copy_field, row)))
                    write("\n")
            buffer.seek(0)
            cursor.copy_expert(f"COPY {STAGE} ({', '.join(columns)}) FROM STDIN", buffer)
        else:
            cursor.execute(f"CREATE TEMP TABLE {STAGE} ({definition})")
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {STAGE} ({', '.join(columns)}) VALUES ({marks})", rows)
        pairs = ", ".join(f"'{key}', s.{column}" for key, column in column_of.items())
        data = f"jsonb_build_object({pairs})" if postgres else f"json_object({pairs})"
        amount_sql = f"CAST(s.{column_of[amount]} AS NUMERIC)" if amount in column_of else "NULL"
        date_sql = (
            (f"CAST(s.{column_of[event_date]} AS DATE)" if postgres else f"s.{column_of[event_date]}")
            if event_date in column_of
            else "NULL"
        )
        code_sql = f"COALESCE(s.{column_of[code]}, '')" if code in column_of else "''"
        source = f"{STAGE} s"
        if postgres:
            # In key order, which is ID-number order (a record key starts with the ID number):
            # the lookups walk the index in order (20,000 staged numbers in random order: 0.30 s
            # of lookups in file order, 0.14 s sorted), and the key-ordered insert below needs
            # no sort of its own.
            source = f"(SELECT * FROM {STAGE} ORDER BY record_key) s"
            # One index lookup per staged row (the ID number is unique in the registry): a chunk
            # of 20,000 rows must not hash the county's whole registry (350,000 members) each time.
            registry = """LEFT JOIN LATERAL (
                SELECT m.id AS member_id, m.name, m.household_id, h.village_id, v.parent_id AS town_id
                FROM households_member m
                JOIN households_household h ON h.id = m.household_id
                JOIN households_area v ON v.id = h.village_id
                WHERE m.id_number = s.id_number AND v.path LIKE %s
                LIMIT 1
            ) r ON TRUE"""
        else:
            registry = """LEFT JOIN (
                SELECT m.id AS member_id, m.id_number, m.name, m.household_id, h.village_id, v.parent_id AS town_id
                FROM households_member m
                JOIN households_household h ON h.id = m.household_id
                JOIN households_area v ON v.id = h.village_id
                WHERE v.path LIKE %s
            ) r ON r.id_number = s.id_number"""
        insert = f"""
            INSERT INTO {table} (upload_id, department_id, period, chunk, row_number, record_key, id_number, name,
                                 name_differs, member_id, household_id, village_id, town_id, amount, event_date,
                                 code, data)
            SELECT %s, %s, %s, %s, s.row_number, s.record_key, s.id_number, s.name,
                   CASE WHEN r.member_id IS NOT NULL AND r.name <> s.name THEN {_true()} ELSE {_false()} END,
                   r.member_id, r.household_id, r.village_id, r.town_id, {amount_sql}, {date_sql}, {code_sql}, {data}
            FROM {source}
            {registry}
        """
        params: list[Any] = [upload_id, department_id, period, chunk, county_path + "%"]
        # The registry side is a subquery so that a person registered in another county of the
        # deployment is not matched by this county's department (LEFT JOIN: kept unmatched).
        if postgres:
            # In key order, so two chunks writing the same records wait for each other in one
            # order and never deadlock; a record the upload has already is left to settle.
            cursor.execute(
                f"""WITH written AS ({insert} ORDER BY s.record_key
                        ON CONFLICT (upload_id, record_key) DO NOTHING RETURNING row_number, member_id)
                    SELECT (SELECT COUNT(member_id) FROM written),
                           ARRAY(SELECT s.row_number FROM {STAGE} s
                                 WHERE NOT EXISTS (SELECT 1 FROM written w WHERE w.row_number = s.row_number)
                                 ORDER BY s.row_number)""",
                params,
            )
            matched, collided = cursor.fetchone()
        else:
            # One writer at a time: the records the upload has already are known before writing.
            cursor.execute(
                f"SELECT s.row_number FROM {STAGE} s JOIN {table} t ON t.upload_id = %s"
                " AND t.record_key = s.record_key ORDER BY s.row_number",
                [upload_id],
            )
            collided = [r[0] for r in cursor.fetchall()]
            cursor.execute(
                f"{insert} WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.upload_id = %s"
                " AND t.record_key = s.record_key)",
                [*params, upload_id],
            )
            cursor.execute(
                f"SELECT COUNT(*) FROM {STAGE} s JOIN households_member m ON m.id_number = s.id_number"
                " JOIN households_household h ON h.id = m.household_id"
                " JOIN households_area v ON v.id = h.village_id WHERE v.path LIKE %s"
                + (f" AND s.row_number NOT IN ({', '.join(['%s'] * len(collided))})" if collided else ""),
                [county_path + "%", *collided],
            )
            matched = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE {STAGE}")
    return int(matched), list(collided)


def rows_of_keys(*, upload_id: int, record_keys: Sequence[str]) -> list[tuple[str, int, int]]:
    """(record key, row number, chunk) of an upload's rows with these keys."""
    found: list[tuple[str, int, int]] = []
    for part in _parts(record_keys):
        found.extend(
            ScreeningRow.objects.filter(upload_id=upload_id, record_key__in=part).values_list(
                "record_key", "row_number", "chunk"
            )
        )
    return found


def count_rows(*, upload_id: int) -> dict[str, int]:
    """The upload's rows: how many, and how many matched a member."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COUNT(member_id) FROM {ScreeningRow._meta.db_table} WHERE upload_id = %s", [upload_id]
        )
        valid, matched = cursor.fetchone()
    return {"valid": int(valid), "matched": int(matched)}


def _parts(values: Sequence[str], size: int = 5000) -> list[Sequence[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def delete_rows(*, upload_id: int, record_keys: Sequence[str] | None = None) -> None:
    """Remove an upload's rows (those with `record_keys` when given) in one statement (per 5,000 keys)."""
    with connection.cursor() as cursor:
        if record_keys is None:
            cursor.execute(f"DELETE FROM {ScreeningRow._meta.db_table} WHERE upload_id = %s", [upload_id])
            return
        for part in _parts(record_keys):
            cursor.execute(
                f"DELETE FROM {ScreeningRow._meta.db_table} WHERE upload_id = %s AND record_key = ANY(%s)"
                if connection.vendor == "postgresql"
                else f"DELETE FROM {ScreeningRow._meta.db_table} WHERE upload_id = %s"
                f" AND record_key IN ({', '.join(['%s'] * len(part))})",
                [upload_id, list(part)] if connection.vendor == "postgresql" else [upload_id, *part],
            )


def _true() -> str:
    return "TRUE" if connection.vendor == "postgresql" else "1"


def _false() -> str:
    return "FALSE" if connection.vendor == "postgresql" else "0"


def _copy_field(value: Any) -> str:
    """A value in COPY's text format: NULL as \\N; backslash, tab and line breaks escaped."""
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text
