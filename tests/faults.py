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
