"""Draw the app's home-screen icons (web app manifest) into static/icons/ with Pillow.

Run again after changing the design: `.venv/bin/python scripts/make_icons.py`. The PNG files
are committed; nothing draws them at run time. The "maskable" icons keep the mark inside the
central 80 % safe zone that Android crops to a circle or squircle.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

GREEN = (21, 101, 52)
WHITE = (255, 255, 255)
FONTS = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
]
OUT = Path(__file__).resolve().parent.parent / "static" / "icons"


def _font(size):
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    raise SystemExit("没有找到中文字体（apt-get install fonts-wqy-microhei）")


def draw(size, maskable=False):
    image = Image.new("RGB", (size, size), GREEN)
    pen = ImageDraw.Draw(image)
    if not maskable:
        # Rounded white ring: reads as an app icon on launchers that do not crop.
        inset = size // 16
        pen.rounded_rectangle(
            [inset, inset, size - inset, size - inset], radius=size // 6, outline=WHITE, width=max(2, size // 40)
        )
    scale = 0.46 if maskable else 0.56
    font = _font(int(size * scale))
    text = "防"
    left, top, right, bottom = pen.textbbox((0, 0), text, font=font)
    pen.text(((size - (right - left)) / 2 - left, (size - (bottom - top)) / 2 - top), text, font=font, fill=WHITE)
    return image


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size).save(OUT / f"icon-{size}.png", optimize=True)
        draw(size, maskable=True).save(OUT / f"icon-maskable-{size}.png", optimize=True)
    draw(180).save(OUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
