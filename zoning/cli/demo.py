"""``zoning demo``: the main job on the bundled data."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from zoning import __version__
from zoning.cli.common import console
from zoning.cli.indicators import print_indicators

_STEPS = {"validate": "1. 图层校验 layer validation",
          "screen": "2. 项目筛查 screening the sample project list",
          "indicators": "3. 指标与规划目标 indicators against the plan targets"}


@click.command("demo")
@click.option("--out", "out_dir", default="maps/out", show_default=True,
              type=click.Path(path_type=Path), help="Where to write the reports.")
def demo(out_dir: Path) -> None:
    """The main job on the bundled data: validate, screen the sample list, compute indicators,
    write the Excel report and all maps."""
    from zoning.demo.workflow import run_demo

    console.print(f"zoning {__version__}：随附的示例区域")
    with console.status("…") as st:
        run = run_demo(out_dir, step=lambda s: st.update(_STEPS[s]))
    console.rule(_STEPS["validate"])
    console.print(f"已校验 {len(run.reports)} 个图层，{len(run.bad_layers)} 个有错误")
    for r in run.bad_layers:
        console.print(f"[red]{escape(f'{r.region}/{r.name}: ' + '; '.join(r.errors))}[/]")
    console.rule(_STEPS["screen"])
    counts = run.screening.counts
    console.print(f"输入 {counts['rows']} 行，输出 {counts['rows']} 行：检查 {counts['ok']} 行，"
                  f"失败 {counts['error']} 行")
    for words, code, n in run.screening.verdict_counts():
        console.print(f"  {words} ({code}): {n}")
    failed = [r for r in run.screening.results if not r.ok]
    if failed:  # the sample list holds broken rows on purpose: each is its own error row
        console.print("  失败行（示例清单有意包含，演示逐行报错；其余各行照常筛查）：")
        for r in failed:
            console.print(escape(f"    ✗ 第 {r.row} 行 {r.project_id}：{r.error}"))
    console.rule(_STEPS["indicators"])
    for ind in run.indicators:
        print_indicators(ind)
    console.rule("4. 输出 outputs")
    console.print(f"筛查工作簿：{escape(str(out_dir / 'screening.xlsx'))}")
    console.print(f"项目地图：  {escape(str(out_dir / 'maps' / 'index.html'))}")
    for target, size in run.indicator_maps:
        console.print(f"指标地图：  {escape(str(target))}（{size / 1024:.0f} KB）")
    console.print(f"[green]done[/]: everything is in {escape(str(Path(out_dir).resolve()))}")
    if run.bad_layers:
        sys.exit(1)
