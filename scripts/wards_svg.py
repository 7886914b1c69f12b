"""Turn the wards' boundaries (GeoJSON) into compact SVG paths for the officials' dashboard map.

Run once when the boundaries change; the output is committed and read at run time:

    python scripts/wards_svg.py ../shared/data/cantho_wards.geojson \
        marketplace/reports/data/wards.svgpaths.json

Coordinates are projected equirectangularly (longitude scaled by the cosine of the middle
latitude), rounded to whole units of a WIDTH-wide drawing (about 130 m on the ground) and
simplified (Douglas-Peucker, TOLERANCE units). Rounding first keeps shared borders together.
Boundaries: thanglequoc/vietnamese-provinces-database (MIT).
"""

import itertools
import json
import math
import sys

WIDTH = 1000
TOLERANCE = 0.75


def _rings(geometry):
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    for polygon in polygons:
        yield from polygon


def _simplify(points, tolerance):
    """Douglas-Peucker on a list of (x, y), keeping the end points."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        length = math.hypot(x2 - x1, y2 - y1)
        worst, index = 0.0, None
        for i in range(first + 1, last):
            x, y = points[i]
            if length == 0:
                distance = math.hypot(x - x1, y - y1)
            else:
                distance = abs((x2 - x1) * (y1 - y) - (x1 - x) * (y2 - y1)) / length
            if distance > worst:
                worst, index = distance, i
        if index is not None and worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _path(rings) -> str:
    parts = []
    for ring in rings:
        if len(ring) < 3:
            continue
        x0, y0 = ring[0]
        steps = [f"M{x0} {y0}"]
        moves = []
        for (xa, ya), (xb, yb) in itertools.pairwise(ring):
            moves.append(f"{xb - xa} {yb - ya}")
        steps.append("l" + " ".join(moves) + "z")
        parts.append("".join(steps))
    return "".join(parts)


def convert(features) -> dict:
    lons = [lon for f in features for ring in _rings(f["geometry"]) for lon, _ in ring]
    lats = [lat for f in features for ring in _rings(f["geometry"]) for _, lat in ring]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    squeeze = math.cos(math.radians((south + north) / 2))
    scale = WIDTH / ((east - west) * squeeze)
    height = math.ceil((north - south) * scale)

    def project(lon, lat):
        return round((lon - west) * squeeze * scale), round((north - lat) * scale)

    wards = {}
    for feature in sorted(features, key=lambda f: f["properties"]["code"]):
        rings = []
        for ring in _rings(feature["geometry"]):
            points = []
            for lon, lat in ring:
                point = project(lon, lat)
                if not points or points[-1] != point:
                    points.append(point)
            points = _simplify(points, TOLERANCE)
            if len(points) >= 4:
                rings.append(points)
        wards[feature["properties"]["code"]] = {"name": feature["properties"]["name"], "d": _path(rings)}
    return {
        "source": "thanglequoc/vietnamese-provinces-database (MIT), via ../shared/data/cantho_wards.geojson",
        "width": WIDTH,
        "height": height,
        "wards": wards,
    }


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    data = convert(features)
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
        handle.write("\n")
    print(f"{len(data['wards'])} wards, {data['width']}×{data['height']} → {target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
