"""Build the example inputs the README's commands use (deterministic).

    python seeds/examples/make_examples.py

Writes, beside this script:
  红线.txt        a 部标 TXT (GBK), the surveyed boundary of a site partly on farmland
  site.kml        a bridge (line) crossing the ecological red line, as a KML
  road.geojson    a short forest-fire road (line) in the red line
  plant/plant.shp a plant site, Shapefile in EPSG:4524 without .prj or .cpg, GBK names
  项目清单.xlsx   a project list with Chinese headers (WKT, 经度/纬度 and a file column)
All sites are in 贵阳市 and are checked against the bundled synthetic layers.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import geopandas as gpd
import shapely

HERE = Path(__file__).resolve().parent
SEEDS = HERE.parent
sys.path.insert(0, str(SEEDS.parent))

G = "EPSG:4490"


def redline_crossing() -> shapely.LineString:
    """A 600 m line through the middle of a red-line polygon near 贵阳 (deterministic)."""
    red = gpd.read_file(SEEDS / "guiyang" / "layers.gpkg", layer="STBHHX").to_crs(G)
    red = red.sort_values("HXBM").reset_index(drop=True)
    g = red.geometry.iloc[len(red) // 2]
    p = g.representative_point()
    return shapely.LineString([(p.x - 0.003, p.y - 0.001), (p.x + 0.003, p.y + 0.001)])


def kml(line: shapely.LineString, name: str) -> str:
    coords = " ".join(f"{x:.7f},{y:.7f},0" for x, y in line.coords)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n'
            f'<Placemark><name>{name}</name><LineString><coordinates>{coords}'
            '</coordinates></LineString></Placemark>\n</Document></kml>\n')


def main() -> None:
    shutil.copyfile(SEEDS / "projects" / "GY-012_勘测定界.txt", HERE / "红线.txt")
    line = redline_crossing()
    (HERE / "site.kml").write_text(kml(line, "跨河大桥（示例）"), encoding="utf-8")
    road = shapely.LineString([line.coords[0], line.interpolate(0.5, normalized=True)])
    gpd.GeoDataFrame({"名称": ["森林防火通道（示例）"]}, geometry=[road], crs=G).to_file(
        HERE / "road.geojson", driver="GeoJSON")
    plant = shapely.box(106.8474, 27.0577, 106.8534, 27.0637)  # sample GY-007's site
    gk = gpd.GeoDataFrame({"NAME": ["化工厂区（示例）"]}, geometry=[plant], crs=G).to_crs(
        "EPSG:4524")
    (HERE / "plant").mkdir(exist_ok=True)
    gk.to_file(HERE / "plant" / "plant.shp", encoding="GBK")
    for ext in (".prj", ".cpg"):
        (HERE / "plant" / f"plant{ext}").unlink(missing_ok=True)
    write_list(line)


def write_list(line) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "项目清单"
    ws.append(["项目编号", "项目名称", "几何", "经度", "纬度", "文件", "行业代码", "建设性质",
               "是否占地", "有限人为活动类别", "项目类型"])
    ws.append(["EX-001", "物流仓储项目", "POLYGON ((106.8533 26.9250, 106.8557 26.9250, "
               "106.8557 26.9274, 106.8533 26.9274, 106.8533 26.9250))", None, None, None,
               "G5960", "新建", None, None, "other"])
    ws.append(["EX-002", "数据中心", None, 106.6735, 26.4066, None, "I6450", "新建", None,
               None, "urban_construction"])
    ws.append(["EX-003", "跨河大桥", line.wkt, None, None, None, "E4812", "新建", "否", None,
               "linear"])
    ws.append(["EX-004", "磷化工配套项目（部标TXT）", None, None, None, "红线.txt", "C2614",
               "新建", None, None, "other"])
    ws.append(["EX-005", "坐标缺失的项目", None, None, None, None, None, None, None, None,
               None])
    for col, w in zip("ABCDEFGHIJK", (10, 26, 40, 11, 11, 12, 10, 10, 9, 16, 18)):
        ws.column_dimensions[col].width = w
    ws.freeze_panes = "A2"
    wb.save(HERE / "项目清单.xlsx")


if __name__ == "__main__":
    main()
