"""The report as a Word document and an Excel workbook, for a board paper to take as it is
(``abm report --docx``, ``--xlsx``), and the DCEA tables as Excel.

Why python-docx and openpyxl (not pandoc): both are pure Python from PyPI, need no program
outside the virtual environment (pandoc's PyPI wheels ship a binary for some platforms only)
and are read back by the tests with the same libraries. Word gets every table (its labelled
text) and every figure (PNG), each with its id, caption and citation line; Excel gets a
contents sheet and a sheet per table with the labelled text and, beside it, the numeric
estimate, lower and upper bound that a spreadsheet can sum and sort.

No cell holds a formula: text that a spreadsheet would read as one (starting with ``=``,
``+``, ``-`` or ``@``) is stored as text (openpyxl would otherwise write it as a formula).
"""

from __future__ import annotations

import io
import math
import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.analysis.tables import display

#: Longest sheet name Excel allows.
SHEET_NAME_MAX = 31


@dataclass(frozen=True)
class Item:
    """A table (``frame``) or a figure (``png``) of the report, with what identifies it."""

    id: str
    title: str
    caption: str
    cite: str
    section: str
    frame: pd.DataFrame | None
    png: bytes | None


def docx_bytes(title: str, description: str, messages: list[str], items: list[Item]) -> bytes:
    """The report as a Word document: title, key messages, then each section's tables and
    figures with captions and citation lines."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    document.core_properties.title = title
    document.add_heading(title, level=0)
    document.add_paragraph(description)
    document.add_heading("Key messages", level=1)
    for message in messages:
        document.add_paragraph(message, style="List Bullet")
    heading = None
    width = section.page_width - section.left_margin - section.right_margin
    for item in items:
        if item.section != heading:
            heading = item.section
            document.add_heading(heading, level=1)
        document.add_heading(f"{item.id}. {item.title}", level=2)
        document.add_paragraph(item.caption)
        if item.frame is not None:
            shown = display(item.frame)
            table = document.add_table(rows=1, cols=len(shown.columns))
            table.style = "Table Grid"
            for cell, name in zip(table.rows[0].cells, shown.columns, strict=True):
                cell.text = str(name)
            for row in shown.itertuples(index=False):
                for cell, value in zip(table.add_row().cells, row, strict=True):
                    cell.text = "" if _missing(value) else str(value)
            for row in table.rows:
                for cell in row.cells:
                    for paragraph in cell.paragraphs:
                        for run in paragraph.runs:
                            run.font.size = Pt(7)
        if item.png is not None:
            document.add_picture(io.BytesIO(item.png), width=width)
        cite = document.add_paragraph(item.cite)
        for run in cite.runs:
            run.font.size = Pt(7)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes(title: str, items: list[Item]) -> bytes:
    """The report's tables as an Excel workbook: a contents sheet (id, title, caption,
    citation; figures listed too), then a sheet per table."""
    from openpyxl import Workbook

    book = Workbook()
    contents = book.active
    contents.title = "Contents"
    _row(contents, 1, [title])
    _row(contents, 2, ["id", "kind", "title", "caption", "cite as"])
    for i, item in enumerate(items, start=3):
        _row(contents, i, [item.id, "table" if item.frame is not None else "figure",
                           item.title, item.caption, item.cite])
    for item in items:
        if item.frame is not None:
            _sheet(book, item.id, [f"{item.id}. {item.title}", item.caption, item.cite],
                   item.frame)
    return _save(book)


def dcea_xlsx_bytes(frames: dict[str, pd.DataFrame]) -> bytes:
    """The DCEA tables (totals, by quintile, EDE profiles) as an Excel workbook, a sheet
    each, every column as the CSV has it."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, frame in frames.items():
        _sheet(book, name, [], frame)
    return _save(book)


def _sheet(book, name: str, heading: list[str], frame: pd.DataFrame) -> None:
    sheet = book.create_sheet(name[:SHEET_NAME_MAX])
    for i, line in enumerate(heading, start=1):
        _row(sheet, i, [line])
    start = len(heading) + (2 if heading else 1)
    _row(sheet, start, [str(c) for c in frame.columns])
    for i, row in enumerate(frame.itertuples(index=False), start=start + 1):
        _row(sheet, i, list(row))
    sheet.freeze_panes = sheet.cell(start + 1, 1)


def _row(sheet, number: int, values: list) -> None:
    """Write a row: numbers as numbers (NaN as an empty cell), everything else as text,
    never as a formula."""
    for column, value in enumerate(values, start=1):
        if _missing(value):
            continue
        if isinstance(value, bool | np.bool_):
            sheet.cell(number, column, bool(value))
        elif isinstance(value, numbers.Integral):
            sheet.cell(number, column, int(value))
        elif isinstance(value, numbers.Real):
            sheet.cell(number, column, float(value))
        else:
            cell = sheet.cell(number, column, str(value))
            cell.data_type = "s"  # openpyxl reads a leading "=" as a formula otherwise


def _save(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _missing(value) -> bool:
    return value is None or (isinstance(value, numbers.Real) and not isinstance(
        value, numbers.Integral) and math.isnan(value))
