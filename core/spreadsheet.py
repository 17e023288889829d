"""CSV exports a spreadsheet opens safely: one rule for every export (access log, takings,
reports)."""

from __future__ import annotations

# What a spreadsheet reads as the start of a formula (OWASP's "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """`value` as a CSV cell a spreadsheet will not run as a formula: a leading quote."""
    text = str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
