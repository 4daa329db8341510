"""The customer's copy of a JPEG: metadata by allow-list, redacted areas obscured for good.

A copy without areas is a rewrite at the level of JPEG segments: the coding segments and the
entropy-coded scan data are copied byte for byte (so the decoded pixels equal the original's),
a few harmless segments are kept, a new minimal EXIF is written, and everything else goes:
GPS, serial numbers, owner names, maker notes, XMP, IPTC, comments, the EXIF thumbnail, MPF and
whatever hides after the end-of-image marker.

A copy with areas is decoded at full resolution in its stored orientation, each area (plus a
margin) is filled flat with its mean colour, and the result is encoded again with the
original's quantisation tables and chroma subsampling. Only then are the same metadata rules
applied to the new coding segments.
"""

import io
import math
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from PIL import Image, JpegImagePlugin

from pix_pipeline.domain.models import Box
from pix_pipeline.imaging.decode import (
    SOF_MARKERS,
    FrameHeader,
    ImageRejected,
    check_frame,
    decode_stored,
    read_info,
)

# Bump whenever the bytes made for the same input and rule change: it is part of the gallery
# fingerprint, so a new renderer makes new customer copies.
RENDITION_VERSION = 1

# Each area grows by this fraction of its own width (and height) on every side.
AREA_MARGIN = 0.15
# Decoding refuses larger frames; the pipeline's own cap (PIX_MAX_IMAGE_PIXELS) defaults to it.
DEFAULT_MAX_PIXELS = 150_000_000


class MetadataRule(StrEnum):
    """What a customer copy keeps of the original's metadata (PIX_CUSTOMER_METADATA)."""

    MINIMAL = "minimal"  # Orientation, Artist, Copyright, DateTimeOriginal, ColorSpace
    NONE = "none"  # Orientation only, and only when it is not 1 (upright as stored)
    ORIGINAL = "original"  # everything, except hidden pictures once the photo is redacted


class RenditionError(ValueError):
    """The file cannot become a valid customer copy; the message says what is wrong where."""


# --- JPEG segments ---------------------------------------------------------------------------

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
DQT, DHT, DAC, DRI = 0xDB, 0xC4, 0xCC, 0xDD
APP0, APP1, APP2, APP13, APP14 = 0xE0, 0xE1, 0xE2, 0xED, 0xEE
COM = 0xFE
# Tables and parameters a decoder needs, copied as they are.
CODING_MARKERS = frozenset({DQT, DHT, DAC, DRI}) | SOF_MARKERS

EXIF_ID = b"Exif\x00\x00"
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
EXTENDED_XMP_ID = b"http://ns.adobe.com/xmp/extension/\x00"
ICC_ID = b"ICC_PROFILE\x00"
JFIF_ID = b"JFIF\x00"
ADOBE_ID = b"Adobe"
ADOBE_LENGTH = 12
MPF_ID = b"MPF\x00"
# Where the scan data ends: an 0xFF that is not stuffing (00), a restart marker or fill (FF).
SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# XMP properties that carry whole pictures as base64 (thumbnails, Google's depth and original).
XMP_PICTURES = (b"xmpGImg:image", b"GImage:Data", b"GDepth:Data", b"GContainer")


@dataclass(frozen=True)
class Segment:
    """One marker segment, `data[start:end]` including its marker; SOS includes its scan data."""

    marker: int
    start: int
    end: int
    header_end: int  # end of the length-counted part (for SOS: where the scan data begins)

    def payload(self, data: bytes) -> bytes:
        return data[self.start + 4 : self.header_end]


def marker_name(marker: int) -> str:
    if 0xE0 <= marker <= 0xEF:
        return f"APP{marker - 0xE0}"
    if marker in SOF_MARKERS:
        return f"SOF{marker - 0xC0}"
    names = {DQT: "DQT", DHT: "DHT", DAC: "DAC", DRI: "DRI", SOS: "SOS", COM: "COM"}
    return names.get(marker, f"marker 0x{marker:02X}")


def parse_segments(data: bytes) -> list[Segment]:
    """The segments from SOI up to the first EOI; raises RenditionError where the file breaks.

    Bytes between segments that are not a marker are skipped, as libjpeg does; everything after
    the first EOI (a second picture, trailers) is not part of the result.
    """
    if not data.startswith(b"\xff\xd8"):
        raise RenditionError(f"not a JPEG: the file starts with bytes {data[:4].hex(' ')}")
    segments: list[Segment] = []
    size = len(data)
    pos = 2
    while True:
        if pos >= size - 1:
            raise RenditionError(
                f"the file ends after {size:,} bytes, before its end-of-image marker (EOI):"
                " it is truncated"
            )
        if data[pos] != 0xFF or data[pos + 1] == 0x00:
            next_ff = data.find(b"\xff", pos + 1)
            pos = size if next_ff < 0 else next_ff
            continue
        if data[pos + 1] == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == EOI:
            return segments
        if marker == SOI:
            raise RenditionError(f"a second start-of-image marker (SOI) at byte {pos:,}")
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # stray restart marker outside a scan
            pos += 2
            continue
        if pos + 4 > size:
            raise RenditionError(
                f"{marker_name(marker)} at byte {pos:,} is cut off: the file ends before its length"
            )
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2:
            raise RenditionError(
                f"{marker_name(marker)} at byte {pos:,} announces an impossible length of {length}"
            )
        if end > size:
            raise RenditionError(
                f"{marker_name(marker)} at byte {pos:,} announces {length:,} bytes, but the file"
                f" ends {size - pos - 2:,} bytes later: it is truncated"
            )
        if marker != SOS:
            segments.append(Segment(marker, pos, end, end))
            pos = end
            continue
        found = SCAN_END.search(data, end)
        if found is None:
            raise RenditionError(
                f"the scan data from byte {end:,} runs to the end of the file without an"
                " end-of-image marker (EOI): the file is truncated"
            )
        segments.append(Segment(SOS, pos, found.start(), end))
        pos = found.start()


def check_structure(data: bytes, segments: Sequence[Segment], max_pixels: int) -> FrameHeader:
    """The frame header, after checking that a decoder can read the file's layout."""
    frames = [s for s in segments if s.marker in SOF_MARKERS]
    scans = [s for s in segments if s.marker == SOS]
    if not frames:
        raise RenditionError("no start-of-frame segment (SOFn): the file has no picture header")
    if len(frames) > 1:
        raise RenditionError(f"{len(frames)} start-of-frame segments; a JPEG has exactly one")
    if not scans:
        raise RenditionError("no scan (SOS): the file holds no picture data")
    if scans[0].start < frames[0].start:
        raise RenditionError("the scan data (SOS) comes before the frame header (SOFn)")
    header = frames[0].payload(data)
    if len(header) < 6:
        raise RenditionError(f"{marker_name(frames[0].marker)} is too short ({len(header)} bytes)")
    frame = FrameHeader(
        marker=frames[0].marker,
        precision=header[0],
        height=int.from_bytes(header[1:3], "big"),
        width=int.from_bytes(header[3:5], "big"),
    )
    if frame.width == 0 or frame.height == 0:
        raise RenditionError(f"the frame header announces {frame.width}x{frame.height} pixels")
    try:
        check_frame(frame, max_pixels)
    except ImageRejected as exc:
        raise RenditionError(str(exc)) from None
    check_references(data, segments, header)
    return frame


def quantisation_tables(payload: bytes) -> set[int]:
    """The table numbers a DQT segment defines (8-bit tables: 64 bytes, 16-bit: 128)."""
    defined: set[int] = set()
    pos = 0
    while pos < len(payload):
        precision, number = payload[pos] >> 4, payload[pos] & 0x0F
        defined.add(number)
        pos += 1 + (128 if precision else 64)
    return defined


def check_references(data: bytes, segments: Sequence[Segment], frame: bytes) -> None:
    """Every component's quantisation table is defined and every scan names components of the
    frame: what libjpeg refuses at once. (Missing Huffman tables are not an error: libjpeg
    takes the standard ones, as Motion-JPEG files expect.)"""
    count = frame[5] if len(frame) > 5 else 0
    if count == 0 or len(frame) < 6 + 3 * count:
        raise RenditionError(f"the frame header is too short for its {count} colour components")
    components = {frame[6 + 3 * i]: frame[8 + 3 * i] for i in range(count)}
    defined: set[int] = set()
    for seg in segments:
        if seg.marker == DQT:
            defined |= quantisation_tables(seg.payload(data))
        elif seg.marker == SOS:
            scan = seg.payload(data)
            if not scan or scan[0] == 0 or len(scan) < 1 + 2 * scan[0] + 3:
                raise RenditionError(
                    f"the scan header (SOS) at byte {seg.start:,} is too short or names no"
                    " colour component"
                )
            selectors = [scan[1 + 2 * i] for i in range(scan[0])]
            unknown = [c for c in selectors if c not in components]
            if unknown:
                raise RenditionError(
                    f"the scan at byte {seg.start:,} names colour component {unknown[0]}, which"
                    " the frame header does not have"
                )
            missing = sorted({components[c] for c in selectors} - defined)
            if missing:
                raise RenditionError(
                    f"the scan at byte {seg.start:,} needs quantisation table {missing[0]},"
                    " which no DQT segment before it defines"
                )


def segment(marker: int, payload: bytes) -> bytes:
    if len(payload) > 0xFFFF - 2:
        raise RenditionError(f"{marker_name(marker)} would be too long ({len(payload):,} bytes)")
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def kind_of(data: bytes, seg: Segment) -> str:
    """What an APPn or COM segment holds: exif, xmp, extended_xmp, icc, mpf, jfif, adobe, com;
    `app0` for another APP0 (a JFXX thumbnail), `other` for everything else."""
    payload = seg.payload(data)
    if seg.marker == APP0:
        return "jfif" if payload.startswith(JFIF_ID) else "app0"
    if seg.marker == APP1:
        if payload.startswith(EXIF_ID):
            return "exif"
        if payload.startswith(XMP_ID):
            return "xmp"
        if payload.startswith(EXTENDED_XMP_ID):
            return "extended_xmp"
    if seg.marker == APP2:
        if payload.startswith(ICC_ID):
            return "icc"
        if payload.startswith(MPF_ID):
            return "mpf"
    if seg.marker == APP14 and payload.startswith(ADOBE_ID):
        return "adobe"
    if seg.marker == COM:
        return "com"
    return "other"


def jfif_without_thumbnail(payload: bytes) -> bytes:
    """The JFIF APP0 payload with its optional uncompressed thumbnail removed."""
    if len(payload) < 14:
        return payload
    return payload[:12] + b"\x00\x00"


# --- EXIF: read a few tags, write a minimal block ----------------------------------------------

ORIENTATION, ARTIST, COPYRIGHT, EXIF_IFD = 0x0112, 0x013B, 0x8298, 0x8769
DATE_TIME_ORIGINAL, COLOR_SPACE = 0x9003, 0xA001
# BYTE, SHORT, LONG, SBYTE, SSHORT, SLONG
INTEGER_FORMATS = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I"}  # 13: IFD
TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
ASCII, SHORT, LONG = 2, 3, 4
# Longer strings are not kept: a copyright notice is never this long, a hidden payload may be.
MAX_TEXT = 4096
MAX_IFD_ENTRIES = 1024


@dataclass(frozen=True)
class ExifKeep:
    """The tags a minimal EXIF carries, as read from the original."""

    orientation: int | None = None
    artist: bytes | None = None
    copyright: bytes | None = None
    date_time_original: bytes | None = None
    color_space: int | None = None


class _Tiff:
    """Bounds-checked reading of a TIFF structure (the EXIF block)."""

    def __init__(self, block: bytes) -> None:
        if block[:4] == b"II*\x00":
            self.order = "<"
        elif block[:4] == b"MM\x00*":
            self.order = ">"
        else:
            raise ValueError("no TIFF header")
        self.block = block

    def u16(self, at: int) -> int:
        value: int = struct.unpack_from(self.order + "H", self.block, at)[0]
        return value

    def u32(self, at: int) -> int:
        value: int = struct.unpack_from(self.order + "I", self.block, at)[0]
        return value

    def ifd(self, offset: int) -> dict[int, tuple[int, int, bytes]]:
        """tag -> (type, count, value bytes) of the IFD at `offset`; broken entries are left out."""
        entries: dict[int, tuple[int, int, bytes]] = {}
        if offset < 8 or offset + 2 > len(self.block):
            return entries
        count = min(self.u16(offset), MAX_IFD_ENTRIES)
        for i in range(count):
            at = offset + 2 + 12 * i
            if at + 12 > len(self.block):
                break
            tag, kind, n = self.u16(at), self.u16(at + 2), self.u32(at + 4)
            size = TYPE_SIZES.get(kind, 0) * n
            if size == 0 or size > len(self.block):
                continue
            start = at + 8 if size <= 4 else self.u32(at + 8)
            if start + size > len(self.block):
                continue
            entries[tag] = (
                kind,
                n,
                self.block[start : start + size],
            )  # the last wins, as in Pillow
        return entries

    def integer(self, entry: tuple[int, int, bytes] | None) -> int | None:
        """The first value of an integer entry of any width, as Pillow reads it (cameras write
        Orientation as LONG now and then, and the previews were made upright with it)."""
        if entry is None or entry[0] not in INTEGER_FORMATS or entry[1] != 1:
            return None
        value: int = struct.unpack_from(self.order + INTEGER_FORMATS[entry[0]], entry[2])[0]
        return value


def _text(entry: tuple[int, int, bytes] | None) -> bytes | None:
    if entry is None or entry[0] != ASCII or len(entry[2]) > MAX_TEXT:
        return None
    value = entry[2] if entry[2].endswith(b"\x00") else entry[2] + b"\x00"
    return value if value.strip(b"\x00 ") else None


def read_exif(block: bytes) -> ExifKeep:
    """The kept tags of an EXIF block (TIFF structure); a broken block yields what is readable."""
    try:
        tiff = _Tiff(block)
        ifd0 = tiff.ifd(tiff.u32(4))
    except (ValueError, struct.error):
        return ExifKeep()
    exif_pointer = tiff.integer(ifd0.get(EXIF_IFD))
    sub = tiff.ifd(exif_pointer) if exif_pointer is not None else {}
    orientation = tiff.integer(ifd0.get(ORIENTATION))
    color_space = tiff.integer(sub.get(COLOR_SPACE))
    return ExifKeep(
        orientation=orientation if orientation in range(1, 9) else None,
        artist=_text(ifd0.get(ARTIST)),
        copyright=_text(ifd0.get(COPYRIGHT)),
        date_time_original=_text(sub.get(DATE_TIME_ORIGINAL)),
        color_space=color_space if color_space in range(0x10000) else None,
    )


def _ifd_bytes(entries: list[tuple[int, int, int, bytes]], offset: int) -> bytes:
    """A little-endian IFD at `offset` (no next IFD), its long values right after it."""
    entries = sorted(entries)
    table = bytearray(struct.pack("<H", len(entries)))
    extra = bytearray()
    data_at = offset + 2 + 12 * len(entries) + 4
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            table += struct.pack("<HHII", tag, kind, count, data_at + len(extra))
            extra += value + (b"\x00" if len(value) % 2 else b"")  # word-aligned values
    table += b"\x00\x00\x00\x00"
    return bytes(table + extra)


def exif_block(keep: ExifKeep) -> bytes | None:
    """A minimal little-endian EXIF block with the kept tags; None when there is none to keep."""
    ifd0: list[tuple[int, int, int, bytes]] = []
    sub: list[tuple[int, int, int, bytes]] = []
    if keep.orientation is not None:
        ifd0.append((ORIENTATION, SHORT, 1, struct.pack("<H", keep.orientation)))
    for tag, text in ((ARTIST, keep.artist), (COPYRIGHT, keep.copyright)):
        if text is not None:
            ifd0.append((tag, ASCII, len(text), text))
    if keep.date_time_original is not None:
        value = keep.date_time_original
        sub.append((DATE_TIME_ORIGINAL, ASCII, len(value), value))
    if keep.color_space is not None:
        sub.append((COLOR_SPACE, SHORT, 1, struct.pack("<H", keep.color_space)))
    if not ifd0 and not sub:
        return None
    if sub:
        ifd0.append((EXIF_IFD, LONG, 1, b"\x00\x00\x00\x00"))  # placeholder, same size
    first = _ifd_bytes(ifd0, 8)
    if sub:
        sub_at = 8 + len(first)
        ifd0[-1] = (EXIF_IFD, LONG, 1, struct.pack("<I", sub_at))
        first = _ifd_bytes(ifd0, 8) + _ifd_bytes(sub, sub_at)
    return b"II*\x00\x08\x00\x00\x00" + first


def first_exif(data: bytes, segments: Iterable[Segment]) -> ExifKeep:
    for seg in segments:
        if seg.marker == APP1 and kind_of(data, seg) == "exif":
            return read_exif(seg.payload(data)[len(EXIF_ID) :])
    return ExifKeep()


def new_exif(keep: ExifKeep, rule: MetadataRule) -> bytes:
    """The EXIF APP1 segment a copy gets under `rule` (empty when it gets none)."""
    if rule is MetadataRule.NONE:
        orientation = keep.orientation if keep.orientation not in (None, 1) else None
        keep = ExifKeep(orientation=orientation)
    block = exif_block(keep)
    return b"" if block is None else segment(APP1, EXIF_ID + block)


# --- rule `original` after a redaction: the original's metadata without hidden pictures -------

EMBEDDED_JPEG = re.compile(rb"\xff\xd8\xff[\xc0-\xfe]")


def without_embedded_pictures(payload: bytes) -> bytes:
    """The payload with every embedded JPEG stream (thumbnails, previews) overwritten by zeros."""
    out = bytearray(payload)
    pos = 0
    while (found := EMBEDDED_JPEG.search(out, pos)) is not None:
        end = out.find(b"\xff\xd9", found.end())
        end = len(out) if end < 0 else end + 2
        out[found.start() : end] = bytes(end - found.start())
        pos = end
    return bytes(out)


def exif_without_thumbnail(block: bytes) -> bytes:
    """The EXIF block with IFD1 (the thumbnail's directory) unlinked and pictures zeroed."""
    out = bytearray(without_embedded_pictures(block))
    try:
        tiff = _Tiff(block)
        ifd0 = tiff.u32(4)
        link = ifd0 + 2 + 12 * tiff.u16(ifd0)
        if link + 4 <= len(out):
            out[link : link + 4] = b"\x00\x00\x00\x00"
    except (ValueError, struct.error):
        pass  # no readable IFD0: nothing links to a thumbnail
    return bytes(out)


def original_metadata(data: bytes, segments: Sequence[Segment]) -> list[bytes]:
    """The original's metadata segments for rule `original`, minus every hidden picture."""
    kept: list[bytes] = []
    for seg in segments:
        if not (0xE0 <= seg.marker <= 0xEF or seg.marker == COM):
            continue
        kind = kind_of(data, seg)
        payload = seg.payload(data)
        if kind in ("jfif", "adobe", "icc", "mpf", "extended_xmp", "app0"):
            continue  # colour encoding comes from the new coding; the rest are pictures
        if kind == "exif":
            kept.append(segment(APP1, EXIF_ID + exif_without_thumbnail(payload[len(EXIF_ID) :])))
        elif kind == "xmp" and any(name in payload for name in XMP_PICTURES):
            continue
        else:
            kept.append(segment(seg.marker, without_embedded_pictures(payload)))
    return kept


# --- assembling a copy -----------------------------------------------------------------------


def assemble(
    coding: bytes,
    coding_segments: Sequence[Segment],
    icc: Sequence[bytes],
    metadata: Sequence[bytes],
) -> bytes:
    """SOI, JFIF, metadata, ICC, Adobe, then the coding segments and scans of `coding`, EOI."""
    jfif: list[bytes] = []
    adobe: list[bytes] = []
    body: list[bytes] = []
    for seg in coding_segments:
        kind = kind_of(coding, seg) if 0xE0 <= seg.marker <= 0xEF else ""
        if kind == "jfif" and not jfif:
            jfif.append(segment(APP0, jfif_without_thumbnail(seg.payload(coding))))
        elif kind == "adobe" and not adobe:
            # 12 bytes say all there is (version, flags, colour transform); more is a payload.
            adobe.append(segment(APP14, seg.payload(coding)[:ADOBE_LENGTH]))
        elif seg.marker in CODING_MARKERS or seg.marker == SOS:
            body.append(coding[seg.start : seg.end])
    return b"".join([b"\xff\xd8", *jfif, *metadata, *icc, *adobe, *body, b"\xff\xd9"])


def icc_segments(data: bytes, segments: Iterable[Segment]) -> list[bytes]:
    """The ICC profile's APP2 chunks, byte for byte."""
    return [data[s.start : s.end] for s in segments if kind_of(data, s) == "icc"]


def metadata_for(
    data: bytes, segments: Sequence[Segment], rule: MetadataRule, orientation: int
) -> list[bytes]:
    """The metadata segments of the copy. `orientation` is the one the pipeline read (and made
    the upright previews and findings with): a damaged EXIF block must not turn the copy."""
    if rule is MetadataRule.ORIGINAL:
        return original_metadata(data, segments)
    keep = first_exif(data, segments)
    if keep.orientation is not None or orientation != 1:
        keep = replace(keep, orientation=orientation)
    exif = new_exif(keep, rule)
    return [exif] if exif else []


def pipeline_orientation(data: bytes, max_pixels: int) -> int:
    """The EXIF orientation as the pipeline reads it everywhere else (decode.read_info)."""
    try:
        return read_info(data, max_pixels).orientation
    except ImageRejected as exc:
        raise RenditionError(str(exc)) from None


# --- areas ------------------------------------------------------------------------------------


def to_stored(u: float, v: float, orientation: int) -> tuple[float, float]:
    """Upright (u, v) in 0–1 -> stored (x, y) in 0–1 for an EXIF orientation (the inverse of
    the transpose that makes the stored picture upright)."""
    match orientation:
        case 2:
            return 1 - u, v
        case 3:
            return 1 - u, 1 - v
        case 4:
            return u, 1 - v
        case 5:
            return v, u
        case 6:
            return v, 1 - u
        case 7:
            return 1 - v, 1 - u
        case 8:
            return 1 - v, u
        case _:
            return u, v


def stored_rectangle(
    box: Box, orientation: int, size: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """Pixel rectangle (left, top, right, bottom; exclusive) in the stored image that covers
    `box` (upright 0–1) grown by the margin and clipped; None when it covers no pixel."""
    mx = (box.x1 - box.x0) * AREA_MARGIN
    my = (box.y1 - box.y0) * AREA_MARGIN
    u0, v0 = max(0.0, box.x0 - mx), max(0.0, box.y0 - my)
    u1, v1 = min(1.0, box.x1 + mx), min(1.0, box.y1 + my)
    (xa, ya), (xb, yb) = to_stored(u0, v0, orientation), to_stored(u1, v1, orientation)
    w, h = size
    left, right = math.floor(min(xa, xb) * w), math.ceil(max(xa, xb) * w)
    top, bottom = math.floor(min(ya, yb) * h), math.ceil(max(ya, yb) * h)
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def obscure(image: Image.Image, rectangle: tuple[int, int, int, int]) -> None:
    """Fill the rectangle flat with its own mean colour: nothing of what was there survives."""
    region = image.crop(rectangle)
    mean = region.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    image.paste(mean, rectangle)  # type: ignore[arg-type]


def redacted_coding(data: bytes, areas: Sequence[Box], max_pixels: int) -> bytes:
    """The picture decoded, the areas obscured in stored orientation, encoded again as close
    to the original as Pillow allows (its quantisation tables and chroma subsampling)."""
    try:
        image, info = decode_stored(data, max_pixels)
    except ImageRejected as exc:
        raise RenditionError(str(exc)) from None
    with image:
        for box in areas:
            rectangle = stored_rectangle(box, info.orientation, image.size)
            if rectangle is not None:
                obscure(image, rectangle)
        sampling = JpegImagePlugin.get_sampling(image) if image.mode == "RGB" else -1
        options: dict[str, object] = {
            "subsampling": sampling if sampling >= 0 else 0,
            "progressive": bool(image.info.get("progressive")),
        }
        tables = getattr(image, "quantization", None)
        if tables:
            options["qtables"] = tables
        else:
            options["quality"] = 95
        if "dpi" in image.info:
            options["dpi"] = image.info["dpi"]
        out = io.BytesIO()
        try:
            image.save(out, format="JPEG", **options)
        except (OSError, ValueError) as exc:
            raise RenditionError(f"cannot encode the redacted picture: {exc}") from None
    return out.getvalue()


# --- the public entry point -------------------------------------------------------------------


def render_customer_copy(
    data: bytes,
    areas: Sequence[Box],
    rule: MetadataRule,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> bytes:
    """The customer's copy of a JPEG (full-size original or one of our previews).

    `areas` are Box rectangles in 0–1 coordinates of the UPRIGHT (EXIF-oriented) photo, as the
    privacy findings and Daniel's dragged rectangles are stored; each is obscured with a 15 %
    margin in the stored orientation. Without areas the scan data is copied untouched. Raises
    RenditionError on a file it cannot turn into a valid customer copy.
    """
    try:
        rule = MetadataRule(rule)
    except ValueError:
        raise RenditionError(f"unknown metadata rule {rule!r}") from None
    segments = parse_segments(data)
    check_structure(data, segments, max_pixels)
    orientation = pipeline_orientation(data, max_pixels)
    if not areas and rule is MetadataRule.ORIGINAL:
        return data
    metadata = metadata_for(data, segments, rule, orientation)
    icc = icc_segments(data, segments)
    if not areas:
        return assemble(data, segments, icc, metadata)
    coding = redacted_coding(data, areas, max_pixels)
    return assemble(coding, parse_segments(coding), icc, metadata)
