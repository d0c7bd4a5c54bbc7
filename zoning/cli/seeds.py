"""``zoning seeds``: regenerate the bundled synthetic layers."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape

from zoning.cli.common import Group, console


@click.group(cls=Group)
def seeds():
    """Bundled seed-region data and its generator."""


@seeds.command("generate")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder to write <region>/layers.gpkg, landcover.tif, constraints.gpkg and "
                   "landuse.gpkg into.")
@click.option("--region", "regions", multiple=True,
              help="Region id (guiyang, pingliang, yunyang); repeatable. Default: all.")
@click.option("--scale", default=1.0, show_default=True,
              help="Multiplies the number of farmland patches (e.g. 20 for benchmarks).")
@click.option("--res-arcsec", default=1.0, show_default=True,
              help="Land-cover pixel size in arc-seconds (1 ≈ 30 m, 0.3333 ≈ 10 m).")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
def seeds_generate(out_dir, regions, scale, res_arcsec, overwrite):
    """Regenerate the synthetic demo layers (deterministic)."""
    from zoning.demo import synth, synth_extra
    from zoning.errors import OutputExistsError
    from zoning.io.vector import read_vector
    from zoning.paths import seeds_dir

    specs = synth.load_specs(seeds_dir() / "regions.yaml")
    unknown = [r for r in regions if r not in specs]
    if unknown:
        raise click.BadParameter(f"unknown region(s) {unknown}; known: {sorted(specs)}",
                                 param_hint="--region")
    districts = read_vector(seeds_dir() / "boundaries.gpkg", layer="districts")
    for slug in regions or sorted(specs):
        target = out_dir / slug
        if not overwrite and any((target / f).exists() for f in ("layers.gpkg", "landcover.tif",
                                                                  "constraints.gpkg",
                                                                  "landuse.gpkg")):
            raise OutputExistsError(f"{target} already holds generated data")
        with console.status(f"generating {slug} …") as st:
            out = synth.generate(specs[slug], districts[districts.region == slug], scale=scale,
                                 res_arcsec=res_arcsec,
                                 log=lambda m, s=slug: st.update(f"{s}: {m}"))
            paths = synth.write_region(specs[slug], out, target, overwrite=True)
            st.update(f"{slug}: constraint and 三调 layers")
            extra = synth_extra.generate_extra(specs[slug], districts[districts.region == slug],
                                               out)
            paths.update(synth_extra.write_extra(specs[slug], extra, target, overwrite=True))
        console.print(f"[green]{escape(slug)}[/]: " + escape(", ".join(str(p) for p in paths.values())))
        console.print("  " + escape(json.dumps(out.stats, ensure_ascii=False)))

