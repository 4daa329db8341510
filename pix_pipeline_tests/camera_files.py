"""JPEGs as cameras and phones write them, with every kind of metadata a customer must not get.

The EXIF and MPF blocks are built here by hand (a small TIFF writer), independent of the code
under test, so the tests can place GPS, serial numbers, a maker note and an embedded thumbnail
exactly where cameras put them. `exiftool` (Debian: libimage-exiftool-perl) reads the results
back as an independent reader; its tests skip without it and fail under PIX_REQUIRE_EXIFTOOL=1.
"""

import io
import json
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from typing import Any

import pytest
from PIL import Image, ImageCms

REQUIRE_EXIFTOOL = "PIX_REQUIRE_EXIFTOOL"

# Values the customer must never see, findable in bytes and in exiftool's output.
GPS_LATITUDE = ((26, 1), (33, 1), (45, 1))
BODY_SERIAL = "BODY0815471"
LENS_SERIAL = "LENS4242"
OWNER = "Erika Mustermann"
MAKER_NOTE = b"SECRETMAKERNOTE" + bytes(range(48))
XMP_SECRET = "Musterstadt Hinterhof 3"
IPTC_CITY = b"Geheimdorf"
COMMENT = b"shot for internal use, serial BODY0815471"
ARTIST = "Daniel Fotograf"
COPYRIGHT = "(c) 2026 Daniel Fotograf"
TAKEN = "2026:05:17 10:11:12"

BYTE, ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 1, 2, 3, 4, 5, 7
_SIZES = {ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, UNDEFINED: 1}


@dataclass
class Ifd:
    """A TIFF directory: entries (tag, type, values) plus sub-directories behind pointer tags."""

    entries: list[tuple[int, int, Any]] = field(default_factory=list)
    subs: dict[int, "Ifd"] = field(default_factory=dict)
    blob_tags: tuple[int, int] | None = None  # (offset tag, length tag) for `blob`
    blob: bytes = b""


def _value_bytes(kind: int, value: Any, order: str) -> tuple[int, bytes]:
    if kind == ASCII:
        raw = value.encode() + b"\x00"
        return len(raw), raw
    if kind in (BYTE, UNDEFINED):
        return len(value), bytes(value)
    if kind == RATIONAL:
        return len(value), b"".join(struct.pack(order + "II", n, d) for n, d in value)
    fmt = "H" if kind == SHORT else "I"
    values = value if isinstance(value, (list, tuple)) else [value]
    return len(values), b"".join(struct.pack(order + fmt, v) for v in values)


def tiff(ifd0: Ifd, ifd1: Ifd | None = None, big_endian: bool = True) -> bytes:
    """A TIFF structure (an EXIF or MPF block): IFD0 with its sub-IFDs, then IFD1 if given."""
    order = ">" if big_endian else "<"
    out = bytearray((b"MM\x00*" if big_endian else b"II*\x00") + struct.pack(order + "I", 8))

    def write(ifd: Ifd) -> int:
        """Append `ifd` and what it points to; return its offset and where its link lives."""
        at = len(out)
        entries = list(ifd.entries)
        entries += [(tag, LONG, 0) for tag in ifd.subs]
        if ifd.blob_tags:
            entries += [(ifd.blob_tags[0], LONG, 0), (ifd.blob_tags[1], LONG, len(ifd.blob))]
        entries.sort(key=lambda e: e[0])
        out.extend(struct.pack(order + "H", len(entries)))
        table_at = len(out)
        out.extend(bytes(12 * len(entries) + 4))
        pointers: dict[int, int] = {}
        for i, (tag, kind, value) in enumerate(entries):
            count, raw = _value_bytes(kind, value, order)
            slot = table_at + 12 * i
            struct.pack_into(order + "HHI", out, slot, tag, kind, count)
            if len(raw) <= 4:
                out[slot + 8 : slot + 8 + len(raw)] = raw
            else:
                if len(out) % 2:
                    out.append(0)
                struct.pack_into(order + "I", out, slot + 8, len(out))
                out.extend(raw)
            pointers[tag] = slot + 8
        for tag, sub in ifd.subs.items():
            struct.pack_into(order + "I", out, pointers[tag], write(sub))
        if ifd.blob_tags:
            struct.pack_into(order + "I", out, pointers[ifd.blob_tags[0]], len(out))
            out.extend(ifd.blob)
        ifd.link_at = table_at + 12 * len(entries)  # type: ignore[attr-defined]
        return at

    write(ifd0)
    if ifd1 is not None:
        struct.pack_into(order + "I", out, ifd0.link_at, write(ifd1))  # type: ignore[attr-defined]
    return bytes(out)


def segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(image: Image.Image, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def insert_after_app0(data: bytes, *segments: bytes) -> bytes:
    """`segments` placed after SOI and a leading APP0 (JFIF), where cameras put metadata."""
    at = 2
    if data[2:4] == b"\xff\xe0":
        at = 4 + struct.unpack(">H", data[4:6])[0]
    return data[:at] + b"".join(segments) + data[at:]


def camera_exif(orientation: int = 1, thumbnail: bytes | None = None) -> bytes:
    """An EXIF block with what a camera or phone writes, private data included."""
    exif_ifd = Ifd(
        [
            (0x9003, ASCII, TAKEN),  # DateTimeOriginal
            (0xA001, SHORT, 1),  # ColorSpace sRGB
            (0xA430, ASCII, OWNER),  # CameraOwnerName
            (0xA431, ASCII, BODY_SERIAL),  # BodySerialNumber
            (0xA435, ASCII, LENS_SERIAL),  # LensSerialNumber
            (0x927C, UNDEFINED, MAKER_NOTE),  # MakerNote
        ]
    )
    gps = Ifd(
        [
            (0x0000, BYTE, b"\x02\x03\x00\x00"),  # GPSVersionID
            (0x0001, ASCII, "N"),
            (0x0002, RATIONAL, GPS_LATITUDE),
            (0x0003, ASCII, "W"),
            (0x0004, RATIONAL, ((80, 1), (11, 1), (2, 1))),
        ]
    )
    ifd0 = Ifd(
        [
            (0x010F, ASCII, "PhoneMaker"),  # Make
            (0x0110, ASCII, "Phone 15 Pro"),  # Model
            (0x0112, SHORT, orientation),
            (0x013B, ASCII, ARTIST),
            (0x8298, ASCII, COPYRIGHT),
        ],
        subs={0x8769: exif_ifd, 0x8825: gps},
    )
    ifd1 = None
    if thumbnail is not None:
        ifd1 = Ifd([(0x0103, SHORT, 6)], blob_tags=(0x0201, 0x0202), blob=thumbnail)
    return tiff(ifd0, ifd1)


def mpf_segment(second_size: int, second_offset: int) -> bytes:
    """An MPF APP2 announcing a second picture (offsets relative to the MPF header)."""
    entries = struct.pack(">IIIHH", 0x20030000, 0, 0, 0, 0) + struct.pack(
        ">IIIHH", 0x00000000, second_size, second_offset, 0, 0
    )
    block = tiff(
        Ifd([(0xB000, UNDEFINED, b"0100"), (0xB001, LONG, 2), (0xB002, UNDEFINED, entries)])
    )
    return segment(0xE2, b"MPF\x00" + block)


def xmp_segment() -> bytes:
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"'
        f' photoshop:City="{XMP_SECRET}"/></rdf:RDF></x:xmpmeta>'
    )
    return segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet.encode())


def extended_xmp_segment() -> bytes:
    chunk = b'<rdf:Description GImage:Data="' + b"QUJD" * 200 + b'"/>'
    guid = b"0123456789ABCDEF0123456789ABCDEF"
    header = guid + struct.pack(">II", len(chunk), 0)
    return segment(0xE1, b"http://ns.adobe.com/xmp/extension/\x00" + header + chunk)


def iptc_segment() -> bytes:
    dataset = b"\x1c\x02\x5a" + struct.pack(">H", len(IPTC_CITY)) + IPTC_CITY  # 2:90 City
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(dataset)) + dataset
    return segment(0xED, b"Photoshop 3.0\x00" + resource + (b"\x00" if len(dataset) % 2 else b""))


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_jpeg(image: Image.Image, orientation: int = 1, **options: Any) -> bytes:
    """`image` as a phone writes it: EXIF with GPS, serials, owner, maker note and a thumbnail,
    XMP and extended XMP, IPTC, a comment, an ICC profile, MPF and a second picture after EOI."""
    thumb = image.copy()
    thumb.thumbnail((160, 160))
    main = jpeg(image, quality=92, icc_profile=srgb_profile(), **options)
    second = jpeg(image.resize((image.width // 4 or 1, image.height // 4 or 1)), quality=80)
    exif = segment(0xE1, b"Exif\x00\x00" + camera_exif(orientation, jpeg(thumb, quality=80)))
    extra = [exif, xmp_segment(), extended_xmp_segment(), iptc_segment(), segment(0xFE, COMMENT)]
    # The MPF offsets count from the MPF header; the second picture starts right after EOI.
    placeholder = mpf_segment(len(second), 0)
    first = insert_after_app0(main, *extra, placeholder)
    mpf_header_at = first.index(b"MPF\x00") + 4
    final = insert_after_app0(main, *extra, mpf_segment(len(second), len(first) - mpf_header_at))
    assert len(final) == len(first)
    return final + second


def exiftool_executable() -> str:
    """exiftool's path; skips the test without it, fails under PIX_REQUIRE_EXIFTOOL=1."""
    found = shutil.which("exiftool")
    if found is None:
        problem = "exiftool is not installed (Debian: apt-get install libimage-exiftool-perl)"
        if os.environ.get(REQUIRE_EXIFTOOL) == "1":
            pytest.fail(f"{REQUIRE_EXIFTOOL}=1 but {problem}")
        pytest.skip(f"metadata checks skipped: {problem}")
    return found


def exiftool_tags(executable: str, data: bytes) -> dict[str, Any]:
    """Every tag exiftool finds in `data`, as {"Group1:Tag": value} (numeric values)."""
    done = subprocess.run(
        [executable, "-j", "-a", "-G1", "-n", "-"], input=data, capture_output=True, check=True
    )
    [tags] = json.loads(done.stdout)
    return {k: v for k, v in tags.items() if not k.startswith(("ExifTool:", "System:"))}
