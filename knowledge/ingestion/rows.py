"""Update many rows, each with its own values, in one statement whose cost grows linearly with the rows.

Django's `bulk_update` writes, for every field, a CASE with one branch per row, which Django builds slowly and
PostgreSQL evaluates branch by branch for each row: quadratic in the batch. An import updates thousands
of staged records and prices per batch, so it joins the rows to arrays of their values instead.
"""

from django.db import connection


def rows_update(model, rows: list, fields: list[str]) -> None:
    """Write these fields of these (saved) rows: `UPDATE ... FROM unnest(ids, values...)`."""
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    pk, columns = meta.pk, [meta.get_field(name) for name in fields]
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in [pk, *columns])
    names = ", ".join(quote(field.column) for field in [pk, *columns])
    assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns)
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM unnest({arrays}) AS v({names}) WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    params = [[row.pk for row in rows]]
    params += [[field.get_db_prep_save(getattr(row, field.attname), connection) for row in rows] for field in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
