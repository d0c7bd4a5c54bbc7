"""Fault injection for the scale-out tests: a partition task that kills its worker once."""

import os
from pathlib import Path

from zoning.scaleout import screen_part


def die_once(marker_dir: str):
    """A partition task that kills its worker on each partition's first attempt."""
    return _DieOnce(marker_dir)


class _DieOnce:
    def __init__(self, marker_dir: str):
        self.marker_dir = marker_dir

    def __call__(self, part, catalogs, region, options):
        if len(part):
            marker = Path(self.marker_dir) / f"part-{int(part['_pos'].iloc[0])}"
            if not marker.exists():
                marker.write_text("failed once")
                os._exit(1)  # a worker dying mid-batch
        return screen_part(part, catalogs, region, options)


def cli_process(args: list[str]):
    """A started process running ``zoning <args>``, forked from a server that has already
    imported the CLI, so a test can kill many runs without paying Python's start-up for
    each: the same code path as ``python -m zoning``, in a fresh process."""
    import multiprocessing as mp

    ctx = mp.get_context("forkserver")
    # what a screening run imports on its way (the writers import theirs lazily): each
    # killed run would import them again
    ctx.set_forkserver_preload(["zoning.cli", "zoning.outputs", "zoning.report.maps",
                                "zoning.screen", "zoning.report.tables", "openpyxl",
                                "openpyxl.styles", "jsonschema", "PIL.Image"])
    proc = ctx.Process(target=_cli_main, args=(list(args),), daemon=True)
    proc.start()
    return proc


def _cli_main(args: list[str]) -> None:
    import sys

    from zoning.cli import main

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        main(args, prog_name="zoning")
    except SystemExit as e:
        sys.exit(e.code)
