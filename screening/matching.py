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
) -> int:
    """Stage `rows` (parsing.ChunkResult.records: row number, record key, ID number, name, then
    one text per value key) and write them as ScreeningRow in one INSERT … SELECT; return how
    many matched a member of the county. The typed columns and `data` (every value key) are
    built by the database from the staged texts. Needs the caller's transaction."""
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
            cursor.execute(f"CREATE TEMP TABLE {STAGE} ({definition}) ON COMMIT DROP")
            buffer = io.StringIO()
            write = buffer.write
            for row in rows:
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
        insert = f"""
            INSERT INTO {table} (upload_id, department_id, period, chunk, row_number, record_key, id_number, name,
                                 name_differs, member_id, household_id, village_id, town_id, amount, event_date,
                                 code, data)
            SELECT %s, %s, %s, %s, s.row_number, s.record_key, s.id_number, s.name,
                   CASE WHEN r.member_id IS NOT NULL AND r.name <> s.name THEN {_true()} ELSE {_false()} END,
                   r.member_id, r.household_id, r.village_id, r.town_id, {amount_sql}, {date_sql}, {code_sql}, {data}
            FROM {STAGE} s
            LEFT JOIN (
                SELECT m.id AS member_id, m.id_number, m.name, m.household_id, h.village_id, v.parent_id AS town_id
                FROM households_member m
                JOIN households_household h ON h.id = m.household_id
                JOIN households_area v ON v.id = h.village_id
                WHERE v.path LIKE %s
            ) r ON r.id_number = s.id_number
        """
        params: list[Any] = [upload_id, department_id, period, chunk, county_path + "%"]
        # The registry side is a subquery so that a person registered in another county of the
        # deployment is not matched by this county's department (LEFT JOIN: kept unmatched).
        if postgres:
            cursor.execute(
                f"WITH written AS ({insert} RETURNING member_id) SELECT COUNT(member_id) FROM written", params
            )
        else:
            cursor.execute(insert, params)
            cursor.execute(
                f"SELECT COUNT(*) FROM {STAGE} s JOIN households_member m ON m.id_number = s.id_number"
                " JOIN households_household h ON h.id = m.household_id"
                " JOIN households_area v ON v.id = h.village_id WHERE v.path LIKE %s",
                [county_path + "%"],
            )
        matched = cursor.fetchone()[0]
        if not postgres:
            cursor.execute(f"DROP TABLE {STAGE}")
    return int(matched)


def delete_rows(*, upload_id: int) -> None:
    """Remove an upload's rows in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ScreeningRow._meta.db_table} WHERE upload_id = %s", [upload_id])


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
