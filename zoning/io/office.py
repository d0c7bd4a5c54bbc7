"""Word → PDF with LibreOffice in headless mode (the faithful route for .docx layouts).

LibreOffice (``soffice``) is a system program, not a Python package: on Debian
``apt-get install libreoffice-writer-nogui fonts-noto-cjk`` (``make office``).
Without it, :func:`docx_to_pdf` raises :class:`~zoning.errors.MissingProgramError`
and the callers still keep the .docx.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from zoning.errors import MissingProgramError, ZoningError
from zoning.io.write import atomic_path

__all__ = ["soffice_path", "docx_to_pdf"]

log = logging.getLogger(__name__)


def soffice_path() -> str | None:
    """The LibreOffice executable, or None (``ZONING_SOFFICE`` overrides the search)."""
    env = os.environ.get("ZONING_SOFFICE")
    if env:
        return env if Path(env).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(docx_files: list[Path], timeout: float = 300.0) -> list[Path]:
    """Convert .docx files to .pdf beside them (one LibreOffice run for all); return the PDFs.

    Each PDF is moved into place atomically.  Raises
    :class:`~zoning.errors.MissingProgramError` when LibreOffice is not installed
    and :class:`~zoning.errors.ZoningError` when a conversion fails.
    """
    exe = soffice_path()
    if exe is None:
        raise MissingProgramError(
            "PDF output needs LibreOffice (soffice), which is not installed; on Debian: "
            "apt-get install libreoffice-writer-nogui fonts-noto-cjk")
    docx_files = [Path(p) for p in docx_files]
    if not docx_files:
        return []
    with tempfile.TemporaryDirectory(prefix="zoning-pdf-") as tmp:
        profile = Path(tmp, "profile").as_uri()  # a private profile: parallel runs never clash
        outdir = Path(tmp, "out")
        cmd = [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(outdir), *map(str, docx_files)]
        log.info("converting %d Word files to PDF", len(docx_files))
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise ZoningError(f"LibreOffice did not finish converting {len(docx_files)} "
                              f"file(s) within {timeout:.0f} s") from None
        out = []
        for src in docx_files:
            made = outdir / (src.stem + ".pdf")
            if not made.exists():
                raise ZoningError(f"{src}: LibreOffice wrote no PDF "
                                  f"({(proc.stderr or proc.stdout).strip()[:300]})")
            dst = src.with_suffix(".pdf")
            with atomic_path(dst) as tmp_dst:
                shutil.copyfile(made, tmp_dst)
            out.append(dst)
        return out
