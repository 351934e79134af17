"""The typed rows of ``hall.storage.rows`` name exactly their table's columns: a column
added by a migration but not to its row class would make every ``Row.of`` fail, and a
field without a column could never be filled."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Table

from hall.storage import rows
from hall.storage import tables as t


@pytest.mark.parametrize(
    ("row_class", "table"),
    [
        (rows.TicketRow, t.tickets),
        (rows.CounterRow, t.counters),
        (rows.AppointmentRow, t.appointments),
        (rows.CaseRow, t.cases),
    ],
)
def test_a_row_class_has_a_field_for_every_column_and_no_other(
    row_class: type, table: Table
) -> None:
    fields = {f.name for f in dataclasses.fields(row_class)}
    columns = set(table.c.keys())
    assert columns - fields == set(), "columns without a field"
    assert fields - columns == set(), "fields without a column"
