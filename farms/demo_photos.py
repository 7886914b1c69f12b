"""Generated pictures for the demo data: one simple, recognisable drawing per kind of produce.

Everything is drawn with Pillow primitives (no fonts, no files) from a seeded random generator,
so the same seed gives the same JPEG on every run.
"""

import io
import math
import random
from collections.abc import Callable

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 800, 600
Color = tuple[int, int, int]


def _jitter(rnd: random.Random, color: Color, amount: int = 18) -> Color:
    return tuple(max(0, min(255, c + rnd.randint(-amount, amount))) for c in color)


def _darker(color: Color, factor: float = 0.6) -> Color:
    return tuple(int(c * factor) for c in color)


def _lighter(color: Color, amount: int = 70) -> Color:
    return tuple(min(255, c + amount) for c in color)


def _background(draw: ImageDraw.ImageDraw, top: Color, bottom: Color, *, planks: bool = False) -> None:
    """Fill with a vertical gradient; `planks` adds the seams of a wooden table."""
    band = 4  # bands, not single lines: as smooth to the eye, a quarter of the work
    for y in range(0, HEIGHT, band):
        t = y / (HEIGHT - 1)
        color = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.rectangle((0, y, WIDTH, y + band - 1), fill=color)
    if planks:
        for y in range(90, HEIGHT, 120):
            draw.line([(0, y), (WIDTH, y)], fill=_darker(bottom, 0.75), width=3)


def _spots(rnd: random.Random, count: int, *, margin: int = 60) -> list[tuple[int, int]]:
    """Return `count` points on a jittered grid, so shapes spread over the picture."""
    columns = max(1, round(math.sqrt(count * WIDTH / HEIGHT)))
    rows = max(1, math.ceil(count / columns))
    cell_w = (WIDTH - 2 * margin) / columns
    cell_h = (HEIGHT - 2 * margin) / rows
    points = []
    for index in range(count):
        row, column = divmod(index, columns)
        x = margin + (column + 0.5) * cell_w + rnd.uniform(-cell_w / 4, cell_w / 4)
        y = margin + (row + 0.5) * cell_h + rnd.uniform(-cell_h / 4, cell_h / 4)
        points.append((int(x), int(y)))
    rnd.shuffle(points)
    return points


def _ellipse_polygon(cx, cy, rx, ry, angle, steps: int = 24) -> list[tuple[float, float]]:
    """Return the points of an ellipse turned by `angle` radians (Pillow draws only upright ones)."""
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    points = []
    for step in range(steps):
        t = 2 * math.pi * step / steps
        x, y = rx * math.cos(t), ry * math.sin(t)
        points.append((cx + x * cos_a - y * sin_a, cy + x * sin_a + y * cos_a))
    return points


def _circle(draw, cx, cy, r, fill, outline=None, width=0):
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill, outline=outline, width=width)


def _shine(draw, cx, cy, r, color: Color):
    """Add the highlight that makes a flat disc read as a round fruit."""
    _circle(draw, cx - r * 0.35, cy - r * 0.35, max(2, r * 0.22), _lighter(color, 90))


def _leaf(draw, rnd, cx, cy, length, angle, color: Color = (60, 140, 50)):
    draw.polygon(_ellipse_polygon(cx, cy, length, length * 0.35, angle, 16), fill=_jitter(rnd, color))
    dx, dy = math.cos(angle) * length, math.sin(angle) * length
    draw.line([(cx - dx, cy - dy), (cx + dx, cy + dy)], fill=_darker(color, 0.7), width=2)


# --- Kinds of produce ---------------------------------------------------------------------------


def _rice(draw, rnd):
    _background(draw, (214, 190, 150), (170, 140, 100))
    # A woven basket (nia) seen from above, heaped with grains.
    _circle(draw, 400, 300, 270, (150, 110, 60), outline=(110, 75, 40), width=10)
    for r in range(60, 260, 40):
        _circle(draw, 400, 300, r, None, outline=(135, 98, 52), width=2)
    for _ in range(900):
        angle = rnd.uniform(0, 2 * math.pi)
        distance = 245 * math.sqrt(rnd.random())
        x, y = 400 + distance * math.cos(angle), 300 + distance * math.sin(angle)
        grain = _jitter(rnd, (246, 242, 228), 8)
        draw.polygon(_ellipse_polygon(x, y, 7, 3, rnd.uniform(0, math.pi), 8), fill=grain)


def _fruit_pile(color: Color, *, count=(9, 14), radius=(50, 70), cap: str = "", background=None):
    """Return a drawer for round fruit: a pile of discs with an optional cap or hairs."""

    def drawer(draw, rnd):
        top, bottom = background or ((205, 225, 190), (120, 160, 95))
        _background(draw, top, bottom, planks=True)
        for x, y in _spots(rnd, rnd.randint(*count)):
            r = rnd.randint(*radius)
            body = _jitter(rnd, color)
            if cap == "hairs":
                for step in range(28):
                    a = 2 * math.pi * step / 28 + rnd.uniform(-0.05, 0.05)
                    inner, outer = r * 0.85, r * 1.28
                    draw.line(
                        [
                            (x + inner * math.cos(a), y + inner * math.sin(a)),
                            (x + outer * math.cos(a + 0.2), y + outer * math.sin(a + 0.2)),
                        ],
                        fill=_jitter(rnd, (70, 150, 60) if step % 3 else body),
                        width=3,
                    )
            _circle(draw, x, y, r, body, outline=_darker(body), width=3)
            _shine(draw, x, y, r, body)
            if cap == "mangosteen":
                for step in range(4):
                    a = -math.pi / 2 + (step - 1.5) * 0.55
                    _leaf(draw, rnd, x + r * 0.35 * math.cos(a), y - r * 0.75, r * 0.3, a, (85, 130, 60))
                draw.line([(x, y - r * 0.8), (x + 4, y - r * 1.15)], fill=(90, 70, 40), width=5)
            elif cap == "stem":
                draw.line([(x, y - r), (x + 6, y - r - 14)], fill=(90, 70, 40), width=5)
                _leaf(draw, rnd, x + 22, y - r - 10, 20, -0.4)
            elif cap == "pores":
                for _ in range(14):
                    a, d = rnd.uniform(0, 2 * math.pi), r * math.sqrt(rnd.random()) * 0.85
                    _circle(draw, x + d * math.cos(a), y + d * math.sin(a), 2, _darker(body, 0.8))

    return drawer


def _durian(draw, rnd):
    _background(draw, (230, 220, 180), (170, 150, 100), planks=True)
    for x, y in _spots(rnd, rnd.randint(3, 4), margin=150):
        rx, ry = rnd.randint(120, 150), rnd.randint(95, 115)
        body = _jitter(rnd, (125, 140, 55))
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=body, outline=_darker(body), width=4)
        spike = _darker(body, 0.75)
        for gy in range(int(y - ry + 14), int(y + ry - 8), 22):
            half = rx * math.sqrt(max(0.0, 1 - ((gy - y) / ry) ** 2))
            for gx in range(int(x - half + 10), int(x + half - 6), 22):
                draw.polygon([(gx - 8, gy + 7), (gx + 8, gy + 7), (gx, gy - 9)], fill=spike)
        draw.rectangle((x - 7, y - ry - 30, x + 7, y - ry + 4), fill=(95, 80, 45))


def _pomelo(draw, rnd):
    _fruit_pile(
        (120, 170, 60),
        count=(4, 6),
        radius=(105, 125),
        cap="pores",
        background=((240, 235, 205), (190, 175, 130)),
    )(draw, rnd)


def _coconut(draw, rnd):
    _background(draw, (205, 230, 240), (150, 190, 160))
    for x, y in _spots(rnd, rnd.randint(4, 6), margin=140):
        r = rnd.randint(100, 120)
        body = _jitter(rnd, (95, 160, 55))
        _circle(draw, x, y, r, body, outline=_darker(body), width=4)
        # The cut top, white flesh inside.
        draw.ellipse(
            (x - r * 0.4, y - r * 0.95, x + r * 0.4, y - r * 0.55),
            fill=(245, 245, 235),
            outline=(200, 210, 170),
            width=3,
        )
        _shine(draw, x, y, r, body)


def _melon(draw, rnd):
    _background(draw, (235, 240, 220), (160, 175, 140), planks=True)
    netted = rnd.random() < 0.6
    for x, y in _spots(rnd, rnd.randint(3, 5), margin=150):
        rx, ry = rnd.randint(110, 135), rnd.randint(90, 110)
        body = _jitter(rnd, (200, 200, 150) if netted else (40, 110, 45))
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=body, outline=_darker(body), width=3)
        if netted:
            for _ in range(30):
                a, b = rnd.uniform(0, 2 * math.pi), rnd.uniform(0, 2 * math.pi)
                p1 = (x + rx * 0.9 * math.cos(a), y + ry * 0.9 * math.sin(a))
                p2 = (x + rx * 0.9 * math.cos(b), y + ry * 0.9 * math.sin(b))
                draw.line([p1, p2], fill=_lighter(body, 40), width=2)
        else:
            for k in range(-3, 4):
                draw.arc(
                    (x - rx + abs(k) * 12, y - ry, x + rx - abs(k) * 12, y + ry),
                    250 + k * 5,
                    290 - k * 5,
                    fill=(25, 70, 30),
                    width=9,
                )
                draw.line(
                    [(x + k * rx / 4, y - ry * 0.9), (x + k * rx / 4.5, y + ry * 0.9)],
                    fill=(25, 75, 30),
                    width=8,
                )


def _berries(draw, rnd):
    """Dâu Hạ Châu: bunches of small yellow-to-red berries along a stem."""
    _background(draw, (215, 235, 200), (110, 150, 90))
    bunches = rnd.randint(4, 6)
    for bunch in range(bunches):
        x0 = int(90 + bunch * (620 / (bunches - 1)) + rnd.randint(-25, 25))
        y0 = rnd.randint(50, 160)
        length = rnd.randint(260, 380)
        lean = rnd.uniform(-0.3, 0.3)
        draw.line([(x0, y0), (x0 + length * lean, y0 + length)], fill=(110, 85, 55), width=6)
        for step in range(0, length, 14):
            cx = x0 + step * lean
            for side in (-1, 1):
                if rnd.random() < 0.8:
                    color = _jitter(rnd, rnd.choice([(235, 205, 90), (240, 170, 80), (225, 110, 80)]))
                    _circle(
                        draw,
                        cx + side * rnd.randint(12, 20),
                        y0 + step,
                        rnd.randint(9, 12),
                        color,
                        outline=_darker(color, 0.75),
                        width=2,
                    )
        _leaf(draw, rnd, x0 + 30, y0 + 10, 40, 0.5 + bunch * 0.1)


def _longan(draw, rnd):
    _fruit_pile(
        (200, 165, 95), count=(40, 55), radius=(24, 30), background=((240, 235, 210), (170, 160, 120))
    )(draw, rnd)


def _mango(draw, rnd):
    _background(draw, (245, 235, 200), (190, 160, 110), planks=True)
    for x, y in _spots(rnd, rnd.randint(5, 7), margin=120):
        body = _jitter(rnd, rnd.choice([(235, 195, 60), (200, 200, 70), (240, 175, 50)]))
        draw.polygon(_ellipse_polygon(x, y, 95, 58, rnd.uniform(-0.6, 0.6)), fill=body, outline=_darker(body))
        _shine(draw, x, y, 50, body)


def _pineapple(draw, rnd):
    _background(draw, (210, 230, 240), (150, 170, 120))
    for x, y in _spots(rnd, rnd.randint(3, 4), margin=170):
        rx, ry, cy = 70, 105, y + 40
        body = _jitter(rnd, (220, 160, 50))
        draw.ellipse((x - rx, cy - ry, x + rx, cy + ry), fill=body, outline=_darker(body), width=4)
        # The "eyes": small diamonds on a staggered grid, kept inside the outline.
        for row, gy in enumerate(range(cy - ry + 18, cy + ry - 10, 22)):
            shift = 11 if row % 2 else 0
            for gx in range(x - rx + 12 + shift, x + rx - 8, 22):
                if ((gx - x) / (rx - 8)) ** 2 + ((gy - cy) / (ry - 8)) ** 2 <= 1:
                    draw.polygon(
                        [(gx, gy - 9), (gx + 9, gy), (gx, gy + 9), (gx - 9, gy)],
                        outline=_darker(body, 0.65),
                        fill=_lighter(body, 15),
                    )
        for k in range(-3, 4):
            draw.polygon(
                [
                    (x + k * 12 - 10, cy - ry + 5),
                    (x + k * 12 + 10, cy - ry + 5),
                    (x + k * 22, cy - ry - 90 + abs(k) * 12),
                ],
                fill=_jitter(rnd, (60, 130, 60)),
            )


def _banana(draw, rnd):
    _background(draw, (225, 240, 215), (120, 160, 100))
    for bunch in range(rnd.randint(2, 3)):
        cx, cy = 200 + bunch * 230 + rnd.randint(-30, 30), 180 + rnd.randint(-30, 30)
        for k in range(6):
            color = _jitter(rnd, (240, 215, 70))
            box = (cx - 110 + k * 8, cy - 60 + k * 32, cx + 110 + k * 8, cy + 220 + k * 32)
            draw.arc(box, 200, 340, fill=_darker(color, 0.8), width=30)
            draw.arc(box, 205, 335, fill=color, width=24)


def _leafy(draw, rnd):
    """Leafy greens tied in bunches (bó)."""
    _background(draw, (240, 238, 225), (190, 185, 165), planks=True)
    for x, y in _spots(rnd, rnd.randint(3, 4), margin=170):
        base = _jitter(rnd, rnd.choice([(55, 150, 55), (80, 165, 60), (40, 120, 50)]))
        for _ in range(14):
            a = -math.pi / 2 + rnd.uniform(-0.7, 0.7)
            length = rnd.randint(70, 120)
            tip = (x + 1.6 * length * math.cos(a), y + 1.6 * length * math.sin(a))
            draw.line([(x, y + 90), tip], fill=(150, 190, 110), width=4)
            _leaf(
                draw,
                rnd,
                (x + tip[0]) / 2 + (tip[0] - x) / 4,
                (y + tip[1]) / 2 + (tip[1] - y) / 4,
                length * 0.55,
                a,
                base,
            )
        draw.rectangle((x - 22, y + 40, x + 22, y + 56), fill=(200, 60, 60))


def _bulbs(color: Color, *, count=(18, 26), size=(28, 40)):
    """Return a drawer for shallots, onions or roots: teardrop shapes."""

    def drawer(draw, rnd):
        _background(draw, (240, 230, 215), (180, 160, 135), planks=True)
        for x, y in _spots(rnd, rnd.randint(*count), margin=70):
            r = rnd.randint(*size)
            body = _jitter(rnd, color)
            draw.polygon(
                [(x - r * 0.55, y - r * 0.4), (x + r * 0.55, y - r * 0.4), (x, y - r * 1.6)], fill=body
            )
            _circle(draw, x, y, r, body, outline=_darker(body), width=2)
            _shine(draw, x, y, r, body)

    return drawer


def _chili(draw, rnd):
    _background(draw, (245, 240, 225), (200, 190, 165), planks=True)
    for x, y in _spots(rnd, rnd.randint(20, 28), margin=70):
        a = rnd.uniform(0, math.pi)
        body = _jitter(rnd, (215, 35, 30))
        draw.polygon(_ellipse_polygon(x, y, 55, 9, a, 16), fill=body)
        draw.line(
            [(x + 55 * math.cos(a), y + 55 * math.sin(a)), (x + 70 * math.cos(a), y + 70 * math.sin(a))],
            fill=(60, 130, 50),
            width=5,
        )


def _roots(color: Color = (120, 60, 100)):
    """Return a drawer for sweet potatoes, radishes and other long roots."""

    def drawer(draw, rnd):
        _background(draw, (235, 225, 205), (160, 135, 105), planks=True)
        for x, y in _spots(rnd, rnd.randint(8, 11), margin=110):
            body = _jitter(rnd, color, 12)
            angle = rnd.uniform(-0.8, 0.8)
            draw.polygon(
                _ellipse_polygon(x, y, rnd.randint(70, 95), rnd.randint(26, 36), angle),
                fill=body,
                outline=_darker(body, 0.8),
            )
            tip = (x + 100 * math.cos(angle), y + 100 * math.sin(angle))
            draw.line(
                [(x + 80 * math.cos(angle), y + 80 * math.sin(angle)), tip], fill=_darker(body, 0.8), width=3
            )

    return drawer


def _pumpkin(draw, rnd):
    _background(draw, (240, 230, 210), (170, 150, 120), planks=True)
    for x, y in _spots(rnd, rnd.randint(3, 4), margin=160):
        rx, ry = rnd.randint(120, 140), rnd.randint(85, 100)
        body = _jitter(rnd, (215, 120, 35))
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=body, outline=_darker(body), width=4)
        for k in (0.35, 0.7):
            draw.ellipse((x - rx * k, y - ry, x + rx * k, y + ry), outline=_darker(body, 0.75), width=4)
        draw.rectangle((x - 9, y - ry - 28, x + 9, y - ry + 6), fill=(100, 110, 50))


def _mushroom(draw, rnd):
    _background(draw, (225, 215, 200), (140, 120, 100))
    for x, y in _spots(rnd, rnd.randint(12, 16), margin=80):
        r = rnd.randint(35, 50)
        draw.rectangle((x - r * 0.3, y, x + r * 0.3, y + r * 1.1), fill=(240, 235, 225))
        cap = _jitter(rnd, (110, 90, 75))
        draw.chord(
            (x - r, y - r * 0.8, x + r, y + r * 0.8), 180, 360, fill=cap, outline=_darker(cap), width=2
        )


def _fish(draw, rnd, *, color: Color = (150, 160, 170), dried: bool = False):
    top, bottom = ((235, 215, 170), (180, 150, 100)) if dried else ((225, 240, 250), (170, 200, 220))
    _background(draw, top, bottom)
    if not dried:  # crushed ice
        for _ in range(80):
            _circle(draw, rnd.randint(0, WIDTH), rnd.randint(0, HEIGHT), rnd.randint(6, 14), (245, 250, 255))
    for index, (x, y) in enumerate(_spots(rnd, rnd.randint(3, 5), margin=150)):
        body = _jitter(rnd, color)
        direction = 1 if index % 2 else -1
        length, height = rnd.randint(150, 190), rnd.randint(42, 55)
        tail_x = x - direction * length
        draw.polygon(
            [(tail_x, y), (tail_x - direction * 60, y - 45), (tail_x - direction * 60, y + 45)],
            fill=_darker(body, 0.85),
        )
        draw.ellipse(
            (x - length, y - height, x + length, y + height), fill=body, outline=_darker(body), width=3
        )
        draw.polygon(
            [(x - 30, y - height + 4), (x + 30, y - height + 4), (x - direction * 40, y - height - 30)],
            fill=_darker(body, 0.85),
        )
        eye_x = x + direction * (length - 35)
        _circle(draw, eye_x, y - 10, 10, (250, 250, 250))
        _circle(draw, eye_x, y - 10, 5, (20, 20, 20))
        draw.arc(
            (eye_x - direction * 25 - 30, y - 40, eye_x - direction * 25 + 30, y + 40),
            -60 if direction > 0 else 120,
            60 if direction > 0 else 240,
            fill=_darker(body, 0.6),
            width=3,
        )


def _pangasius(draw, rnd):
    _fish(draw, rnd, color=(165, 170, 180))


def _snakehead(draw, rnd):
    _fish(draw, rnd, color=(95, 95, 80))


def _dried_fish(draw, rnd):
    _fish(draw, rnd, color=(200, 140, 70), dried=True)


def _shrimp(draw, rnd):
    _background(draw, (225, 240, 250), (165, 195, 215))
    for x, y in _spots(rnd, rnd.randint(6, 9), margin=110):
        body = _jitter(rnd, (70, 120, 160) if rnd.random() < 0.5 else (230, 120, 60))
        for k in range(6):
            a = math.pi * (0.15 + k * 0.13)
            _circle(
                draw,
                x + 60 * math.cos(a),
                y + 60 * math.sin(a) - 40,
                22 - k * 2,
                body,
                outline=_darker(body),
                width=2,
            )
        draw.line([(x + 55, y - 30), (x + 150, y - 90)], fill=(40, 80, 130), width=8)  # the big blue claw
        draw.line([(x + 60, y - 45), (x + 140, y - 140)], fill=_darker(body), width=2)


def _eel(draw, rnd):
    _background(draw, (215, 230, 230), (120, 150, 150))
    for k in range(rnd.randint(4, 6)):
        y0 = 90 + k * 90 + rnd.randint(-15, 15)
        phase = rnd.uniform(0, math.pi)
        points = [(x, y0 + 25 * math.sin(x / 60 + phase)) for x in range(60, 760, 10)]
        draw.line(points, fill=_jitter(rnd, (120, 90, 40)), width=26, joint="curve")
        _circle(draw, points[-1][0], points[-1][1], 15, (110, 80, 35))


def _poultry(draw, rnd, *, duck: bool = False):
    _background(draw, (215, 235, 200), (150, 175, 110))
    for x, y in _spots(rnd, rnd.randint(3, 4), margin=170):
        body = _jitter(
            rnd, (240, 240, 235) if duck else rnd.choice([(170, 95, 45), (200, 130, 60), (90, 60, 40)])
        )
        draw.ellipse((x - 95, y - 60, x + 95, y + 70), fill=body, outline=_darker(body), width=3)
        draw.polygon(
            [(x - 85, y - 10), (x - 150, y - 80), (x - 120, y + 10)], fill=_darker(body, 0.7)
        )  # tail
        _circle(draw, x + 85, y - 75, 34, body, outline=_darker(body), width=3)
        if not duck:
            for k in range(3):
                _circle(draw, x + 72 + k * 12, y - 112, 10, (210, 30, 30))  # comb
        beak = (235, 170, 40)
        draw.polygon([(x + 115, y - 82), (x + 150, y - 72), (x + 115, y - 62)], fill=beak)
        _circle(draw, x + 96, y - 84, 5, (20, 20, 20))
        for k in (-30, 20):
            draw.line([(x + k, y + 65), (x + k, y + 115)], fill=beak, width=6)


def _chicken(draw, rnd):
    _poultry(draw, rnd)


def _duck(draw, rnd):
    _poultry(draw, rnd, duck=True)


def _eggs(draw, rnd, *, duck: bool = False):
    _background(draw, (235, 225, 205), (180, 165, 140))
    draw.rounded_rectangle(
        (60, 60, 740, 540), radius=30, fill=(205, 190, 160), outline=(160, 140, 110), width=5
    )
    for row in range(4):
        for column in range(5):
            x, y = 140 + column * 130, 120 + row * 120
            _circle(draw, x, y + 8, 52, (185, 168, 135))
            shell = _jitter(rnd, (235, 240, 230) if duck else (225, 180, 130), 10)
            draw.ellipse((x - 40, y - 50, x + 40, y + 48), fill=shell, outline=_darker(shell, 0.85), width=2)
            _circle(draw, x - 14, y - 20, 9, _lighter(shell, 30))


def _chicken_eggs(draw, rnd):
    _eggs(draw, rnd)


def _duck_eggs(draw, rnd):
    _eggs(draw, rnd, duck=True)


def _jars(draw, rnd, *, liquid: Color, lid: Color):
    """Honey, fish sauce or other bottled products: rounded jars with a lid and a blank label."""
    _background(draw, (245, 238, 220), (200, 185, 150), planks=True)
    for k in range(3):
        x = 170 + k * 230 + rnd.randint(-15, 15)
        top, bottom = 170 + rnd.randint(-20, 20), 500
        draw.rounded_rectangle(
            (x - 85, top, x + 85, bottom),
            radius=35,
            fill=_jitter(rnd, liquid, 10),
            outline=_darker(liquid, 0.7),
            width=4,
        )
        draw.rectangle((x - 60, top - 45, x + 60, top + 5), fill=lid, outline=_darker(lid), width=3)
        draw.rounded_rectangle(
            (x - 65, top + 90, x + 65, top + 190),
            radius=12,
            fill=(250, 245, 230),
            outline=(170, 150, 110),
            width=3,
        )
        for line in range(3):
            draw.line(
                [(x - 45, top + 115 + line * 25), (x + 45 - line * 20, top + 115 + line * 25)],
                fill=(120, 100, 70),
                width=5,
            )
        draw.line([(x - 55, top + 30), (x - 55, bottom - 40)], fill=_lighter(liquid, 60), width=8)


def _honey(draw, rnd):
    _jars(draw, rnd, liquid=(220, 150, 30), lid=(200, 40, 40))


def _fish_sauce(draw, rnd):
    _jars(draw, rnd, liquid=(150, 80, 30), lid=(40, 90, 160))


def _cakes(draw, rnd):
    """Bánh pía: round golden pastries with a red stamp, in an open box."""
    _background(draw, (230, 200, 160), (170, 110, 70))
    draw.rectangle((70, 60, 730, 540), fill=(185, 40, 40), outline=(130, 20, 20), width=8)
    draw.rectangle((100, 90, 700, 510), fill=(245, 235, 210))
    for row in range(2):
        for column in range(3):
            x, y = 210 + column * 190, 200 + row * 200
            crust = _jitter(rnd, (225, 180, 100), 10)
            _circle(draw, x, y, 80, crust, outline=_darker(crust, 0.8), width=4)
            for ring in range(3):
                _circle(draw, x, y, 60 - ring * 18, None, outline=_lighter(crust, 25), width=2)
            _circle(draw, x, y, 14, (200, 40, 40))


def _sausage(draw, rnd):
    _background(draw, (240, 230, 210), (190, 170, 140), planks=True)
    for row in range(4):
        y = 110 + row * 125
        x = 80 + rnd.randint(-20, 20)
        while x < 700:
            link = rnd.randint(110, 140)
            body = _jitter(rnd, (170, 45, 40), 12)
            draw.rounded_rectangle(
                (x, y - 28, x + link, y + 28), radius=28, fill=body, outline=_darker(body), width=3
            )
            for _ in range(10):
                _circle(
                    draw, rnd.randint(x + 12, x + link - 12), rnd.randint(y - 18, y + 18), 4, (235, 200, 190)
                )
            draw.line([(x + link, y), (x + link + 16, y)], fill=(230, 220, 190), width=4)
            x += link + 16


def _rice_paper(draw, rnd):
    """Bánh tráng: large pale discs with sesame, drying on a bamboo rack."""
    _background(draw, (205, 185, 140), (160, 135, 90))
    for x in range(0, WIDTH, 26):
        draw.line([(x, 0), (x, HEIGHT)], fill=(180, 155, 105), width=3)
    for x, y in _spots(rnd, 4, margin=190):
        disc = _jitter(rnd, (245, 238, 215), 8)
        _circle(draw, x, y, 170, disc, outline=(220, 205, 170), width=3)
        for _ in range(160):
            a, d = rnd.uniform(0, 2 * math.pi), 160 * math.sqrt(rnd.random())
            draw.ellipse(
                (
                    x + d * math.cos(a) - 3,
                    y + d * math.sin(a) - 2,
                    x + d * math.cos(a) + 3,
                    y + d * math.sin(a) + 2,
                ),
                fill=rnd.choice([(40, 35, 30), (230, 215, 170)]),
            )


def _noodles(draw, rnd):
    """Hủ tiếu: bundles of white noodles."""
    _background(draw, (200, 170, 120), (130, 95, 60), planks=True)
    for x, y in _spots(rnd, 4, margin=170):
        for k in range(36):
            offset = -90 + k * 5
            phase = rnd.uniform(0, math.pi)
            points = [(x + offset + 6 * math.sin(t / 12 + phase), y - 110 + t) for t in range(0, 220, 8)]
            draw.line(points, fill=_jitter(rnd, (248, 245, 235), 6), width=3)
        draw.rectangle((x - 100, y - 12, x + 100, y + 12), fill=(200, 50, 50))


def _sugarcane(draw, rnd):
    _background(draw, (215, 235, 205), (140, 170, 110))
    for k in range(rnd.randint(7, 9)):
        x = 90 + k * 80 + rnd.randint(-10, 10)
        body = _jitter(rnd, (110, 40, 80))
        draw.rectangle((x - 20, 20, x + 20, 580), fill=body)
        for y in range(60 + rnd.randint(0, 40), 580, 110):
            draw.rectangle((x - 22, y, x + 22, y + 8), fill=_darker(body, 0.6))


def _generic(draw, rnd):
    _fruit_pile((200, 120, 60))(draw, rnd)


DRAWERS: dict[str, Callable] = {
    "rice": _rice,
    "mangosteen": _fruit_pile((95, 30, 60), cap="mangosteen"),
    "rambutan": _fruit_pile((205, 40, 45), count=(12, 16), radius=(38, 48), cap="hairs"),
    "durian": _durian,
    "pomelo": _pomelo,
    "coconut": _coconut,
    "melon": _melon,
    "berries": _berries,
    "orange": _fruit_pile((170, 175, 55), count=(10, 14), radius=(48, 60), cap="pores"),
    "mandarin": _fruit_pile((240, 140, 35), count=(12, 16), radius=(40, 50), cap="stem"),
    "longan": _longan,
    "mango": _mango,
    "pineapple": _pineapple,
    "banana": _banana,
    "leafy": _leafy,
    "shallot": _bulbs((150, 60, 110)),
    "radish": _roots((245, 243, 235)),
    "chili": _chili,
    "roots": _roots(),
    "pumpkin": _pumpkin,
    "mushroom": _mushroom,
    "pangasius": _pangasius,
    "snakehead": _snakehead,
    "dried_fish": _dried_fish,
    "shrimp": _shrimp,
    "eel": _eel,
    "chicken": _chicken,
    "duck": _duck,
    "chicken_eggs": _chicken_eggs,
    "duck_eggs": _duck_eggs,
    "honey": _honey,
    "fish_sauce": _fish_sauce,
    "cakes": _cakes,
    "sausage": _sausage,
    "rice_paper": _rice_paper,
    "noodles": _noodles,
    "sugarcane": _sugarcane,
}


def _jpeg(image: Image.Image, quality: int = 80) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def produce_photo(kind: str, seed: str) -> bytes:
    """Return an 800×600 JPEG picturing `kind` of produce; the same seed gives the same bytes."""
    rnd = random.Random(f"{kind}:{seed}")  # noqa: S311 (pictures, not secrets)
    image = Image.new("RGB", (WIDTH, HEIGHT))
    DRAWERS.get(kind, _generic)(ImageDraw.Draw(image), rnd)
    return _jpeg(image)


CERTIFICATE_COLORS: dict[str, Color] = {
    "vietgap": (30, 130, 70),
    "globalgap": (30, 90, 160),
    "organic": (110, 160, 40),
    "ocop": (200, 150, 20),
}


def certificate_image(kind: str, seed: str, *, stars: int | None = None) -> bytes:
    """Return a 600×800 JPEG that looks like a certificate (border, header, lines, a seal)."""
    rnd = random.Random(f"certificate:{kind}:{seed}")  # noqa: S311
    color = CERTIFICATE_COLORS.get(kind, (120, 120, 120))
    image = Image.new("RGB", (600, 800), (250, 246, 232))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 580, 780), outline=color, width=10)
    draw.rectangle((38, 38, 562, 762), outline=_lighter(color, 60), width=3)
    draw.rectangle((60, 70, 540, 160), fill=color)
    for k in range(stars or 0):
        cx, cy = 300 + (k - (stars - 1) / 2) * 70, 220
        points = []
        for step in range(10):
            r = 28 if step % 2 == 0 else 12
            a = -math.pi / 2 + step * math.pi / 5
            points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
        draw.polygon(points, fill=(235, 180, 20), outline=(170, 120, 10))
    for row in range(10):
        y = 290 + row * 36
        draw.line([(80, y), (520 - rnd.randint(0, 160), y)], fill=(110, 105, 95), width=6)
    _circle(draw, 430, 650, 70, None, outline=(200, 40, 40), width=8)
    _circle(draw, 430, 650, 48, None, outline=(200, 40, 40), width=3)
    draw.line([(90, 680), (260, 660)], fill=(40, 60, 140), width=4)  # a signature
    draw.arc((120, 620, 220, 700), 200, 340, fill=(40, 60, 140), width=4)
    return _jpeg(image, quality=75)
