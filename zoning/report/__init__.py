"""Rendering: workbook and tables, maps, HTML pages (nothing here writes a file)."""
