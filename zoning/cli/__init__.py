"""The ``zoning`` command line: click only, one module per command.

Every command parses its options and calls the library.  Library errors
(:class:`~zoning.errors.ZoningError`) become one clear message and exit
status 1; click keeps status 2 for usage errors.  ``-v``/``-q`` set the
level of the library's loggers.
"""

from __future__ import annotations

import click

from zoning import __version__
from zoning.cli.common import Group, setup_logging

__all__ = ["main"]


@click.group(cls=Group)
@click.version_option(__version__, prog_name="zoning")
@click.option("-v", "--verbose", count=True, help="More log output (-vv: debug).")
@click.option("-q", "--quiet", count=True, help="Less log output: errors only.")
def main(verbose: int, quiet: int) -> None:
    """zoning: 建设项目选址合规筛查 — check project sites against 三区三线, 自然保护地 and 三线一单."""
    setup_logging(verbose, quiet)


def _register() -> None:
    from zoning.cli import check, demo, indicators, layers, report, screen, seeds, serve, targets

    main.add_command(layers.layers)
    main.add_command(seeds.seeds)
    main.add_command(targets.targets_cmd)
    main.add_command(check.check_cmd)
    main.add_command(screen.screen_cmd)
    main.add_command(report.report_cmd)
    main.add_command(indicators.indicators_cmd)
    main.add_command(demo.demo)
    main.add_command(serve.serve_cmd)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
