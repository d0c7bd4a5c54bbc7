"""The README can be followed literally: its commands and Python examples run as written.

Every line of a ```bash block is either a `.venv/bin/zoning …` command, run
here (in-process, from a folder that looks like the checkout), or is marked
``# not run by the README test: <why>``.  Every ```python block that uses the
shipped examples is run too.  PDF conversion is left out (LibreOffice takes
seconds per run; tests/test_report.py converts one report).
"""

import os
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoning.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SKIP = "# not run by the README test"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README.read_text("utf-8"), re.S | re.M)


def _commands() -> list[str]:
    out = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():  # join continued lines
            line = line.strip()
            if not line or line.startswith("#") or SKIP in line:
                continue
            assert line.startswith(".venv/bin/zoning "), (
                f"README command neither runnable as written nor marked ({SKIP}: …): {line}")
            out.append(line)
    return out


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A folder with the checkout's data where the README's relative paths resolve."""
    home = tmp_path_factory.mktemp("readme")
    for name in ("seeds", "layers"):
        (home / name).symlink_to(ROOT / name)
    return home


def test_readme_has_runnable_commands():
    cmds = _commands()
    assert len(cmds) >= 12
    assert any(" report " in c for c in cmds) and any(" screen " in c for c in cmds)


@pytest.mark.parametrize("line", _commands())
def test_readme_command_runs_as_written(line, checkout, monkeypatch):
    monkeypatch.chdir(checkout)
    monkeypatch.setenv("ZONING_SOFFICE", str(checkout / "no-libreoffice-in-this-test"))
    args = shlex.split(line, comments=True)[1:]
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    assert r.exit_code == 0, f"{line}\n{r.output}"
    assert "Traceback" not in r.output


def test_readme_python_examples_run(checkout, monkeypatch, capsys):
    monkeypatch.chdir(checkout)
    blocks = [b for b in _blocks("python") if "seeds/examples" in b or "zoning.screen" in b]
    assert len(blocks) >= 2
    for code in blocks:
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    assert "EX-001" in capsys.readouterr().out
    assert list((checkout / "报告" / "python").glob("*.docx"))
    assert os.path.exists(checkout / "seeds" / "examples" / "项目清单.xlsx")
