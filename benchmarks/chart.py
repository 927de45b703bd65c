# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PNG charts for the benchmarks, with the standard library alone (no plotting package on the machines they run on)."""
import struct
import zlib

# A 3x5 pixel font, enough for the chart's labels (drawn in upper case).
FONT = {
    "0": "###,#.#,#.#,#.#,###", "1": ".#.,##.,.#.,.#.,###", "2": "###,..#,###,#..,###", "3": "###,..#,###,..#,###",
    "4": "#.#,#.#,###,..#,..#", "5": "###,#..,###,..#,###", "6": "###,#..,###,#.#,###", "7": "###,..#,..#,..#,..#",
    "8": "###,#.#,###,#.#,###", "9": "###,#.#,###,..#,###", ".": "...,...,...,...,.#.", ",": "...,...,...,.#.,#..",
    "-": "...,...,###,...,...", "(": ".#.,#..,#..,#..,.#.", ")": ".#.,..#,..#,..#,.#.", "/": "..#,..#,.#.,#..,#..",
    ":": "...,.#.,...,.#.,...", " ": "...,...,...,...,...",
    "A": ".#.,#.#,###,#.#,#.#", "B": "##.,#.#,##.,#.#,##.", "C": "###,#..,#..,#..,###", "D": "##.,#.#,#.#,#.#,##.",
    "E": "###,#..,##.,#..,###", "F": "###,#..,##.,#..,#..", "G": "###,#..,#.#,#.#,###", "H": "#.#,#.#,###,#.#,#.#",
    "I": "###,.#.,.#.,.#.,###", "J": "..#,..#,..#,#.#,###", "K": "#.#,#.#,##.,#.#,#.#", "L": "#..,#..,#..,#..,###",
    "M": "#.#,###,###,#.#,#.#", "N": "##.,#.#,#.#,#.#,#.#", "O": "###,#.#,#.#,#.#,###", "P": "###,#.#,###,#..,#..",
    "Q": "###,#.#,#.#,###,..#", "R": "##.,#.#,##.,#.#,#.#", "S": "###,#..,###,..#,###", "T": "###,.#.,.#.,.#.,.#.",
    "U": "#.#,#.#,#.#,#.#,###", "V": "#.#,#.#,#.#,#.#,.#.", "W": "#.#,#.#,###,###,#.#", "X": "#.#,#.#,.#.,#.#,#.#",
    "Y": "#.#,#.#,.#.,.#.,.#.", "Z": "###,..#,.#.,#..,###",
}


class Canvas:
    """An RGB pixel buffer that writes itself as a PNG (zlib and struct only)."""

    def __init__(self, width, height):
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def rect(self, left, top, width, height, colour):
        for y in range(max(top, 0), min(top + height, self.height)):
            for x in range(max(left, 0), min(left + width, self.width)):
                self.pixels[(y * self.width + x) * 3:(y * self.width + x) * 3 + 3] = bytes(colour)

    def text(self, left, top, string, scale=2, colour=(0, 0, 0)):
        for index, char in enumerate(string.upper()):
            for row, bits in enumerate(FONT.get(char, FONT[" "]).split(",")):
                for column, bit in enumerate(bits):
                    if bit == "#":
                        self.rect(left + (index * 4 + column) * scale, top + row * scale, scale, scale, colour)

    @staticmethod
    def text_width(string, scale=2):
        return len(string) * 4 * scale

    def png(self):
        row = self.width * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[y * row:(y + 1) * row]) for y in range(self.height))

        def chunk(tag, data):
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
