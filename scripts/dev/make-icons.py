#!/usr/bin/env python3
"""Draws tasklane's icon (three task lanes, one ticked) as RGBA PNGs in
src-tauri/icons/, with the standard library only. Run again after changing
the drawing; the PNGs are committed."""
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "src-tauri", "icons")
BG = (37, 99, 235)  # blue-600
FG = (255, 255, 255)
ACCENT = (134, 239, 172)  # green-300


def inside_rounded(x, y, n, r):
    cx = min(max(x, r), n - 1 - r)
    cy = min(max(y, r), n - 1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def pixel(x, y, n):
    u, v = x / n, y / n
    if not inside_rounded(x, y, n, n * 0.2):
        return (0, 0, 0, 0)
    # Three lanes: a dot and a bar each; the first one ticked.
    for i, top in enumerate((0.24, 0.44, 0.64)):
        if top <= v <= top + 0.12:
            if 0.18 <= u <= 0.30:
                return (*(ACCENT if i == 0 else FG), 255)
            if 0.38 <= u <= 0.82 - (0.16 if i == 2 else 0):
                return (*FG, 255 if i != 0 else 170)
    return (*BG, 255)


def png(n):
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y, n)) for x in range(n)) for y in range(n)
    )

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", n, n, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


for name, size in (("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(png(size))
