"""The local privacy check (brief 5.2 b): faces, licence plates, text and house numbers.

Runs on the upright 1600 px preview, never on the full raster: faces with CenterFace, text
with RapidOCR, plates and house numbers from the shape of what OCR read and where it stands.
Logos have no local model and stay `not_checked`.

Only findings at or above their category's reporting threshold are reported, so a category
is `detected` exactly when it lists a finding that should stop a release.
"""

import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict

import numpy as np
from PIL import Image

from pix_pipeline.analysis.local.faces import NMS_OVERLAP, FaceDetector, non_max_suppression
from pix_pipeline.analysis.local.faces import model_version as face_model_version
from pix_pipeline.analysis.local.ocr import (
    PIXEL_THRESHOLD,
    TextLine,
    TextReader,
    WeakLook,
    WeakRegion,
    ocr_version,
)
from pix_pipeline.analysis.local.onnx_models import ModelUnavailable
from pix_pipeline.analysis.local.small_text import SmallTextDetector
from pix_pipeline.analysis.local.small_text import model_version as small_text_model_version
from pix_pipeline.analysis.local.text_rules import (
    MAX_CORRECTIONS,
    SURE_CORRECTED_LENGTH,
    SURE_CORRECTIONS,
    is_house_number,
    is_two_line_plate,
    read_plate,
)
from pix_pipeline.domain.models import Box, CategoryResult, Detection, Finding, PrivacyResult
from pix_pipeline.settings import PrivacyThresholds

PROVIDER_VERSION = "local/4"
# Short lines need a surer reading: one or two characters, or one character repeated ("LL",
# "000", or "00006" with one odd character in five or more), are what OCR reads into tiles,
# wood grain, railings and rows of knobs. A single character is only a finding when it is a digit
# (house number "4").
SINGLE_CHARACTER_MIN_SCORE = 0.9
TWO_CHARACTER_MIN_SCORE = 0.8
# The detector sometimes takes a large part of the frame for one "line" and reads a character
# into it; a line that tall must be read with near certainty (a close-up house number is).
TALL_LINE = 0.3
TALL_LINE_MIN_SCORE = 0.9
# A number is labelled a house number only when read this surely; below, it stays `text`
# (still a finding): digits guessed into wood grain or a jersey pattern score lower.
HOUSE_NUMBER_MIN_SCORE = 0.75
# Lines scored below this are never used, not even to assemble a plate.
OCR_FLOOR = 0.3
# Photos smaller than the detection size are enlarged by at most this factor: more makes
# OCR read letters into wallpaper and tiles (measured on 256 px interiors).
MAX_ENLARGEMENT = 2.0
# A second look, only where the first found no text or plate: the areas the detector scored
# above this pixel probability but never up to its pixel threshold (0.3, so no box candidate
# was made of them), the strongest few, each read again from a crop enlarged three times.
# Small digits (a house number about 10 px high on a porch post of an 800 px photo) light
# the map that faintly; read larger, they are found. The crops cost a small share of the
# first pass; a second pass over the whole photo at twice the size costs 2-3 s on one core.
WEAK_TEXT_FLOOR = 0.1
WEAK_TEXT_REGIONS = 6
WEAK_TEXT_ENLARGEMENT = 3.0
# Wider or taller than this many pixels of the detector's map (960 px across a 1600 px
# preview), an area is texture or large lettering, not small digits; enlarged three times, such
# an area made a crop of 1000 px and more, which took up to a second to read.
WEAK_TEXT_MAX_SIDE = 24
# A third look, only on a photo from SMALL_TEXT_MIN_SIDE px long up to under
# SMALL_TEXT_MAX_SIDE (camera photos never are: their previews are 1600 px), where the first
# two found no text and no plate: the small-text detector (small_text.py) on the photo
# enlarged three times, at most to SMALL_TEXT_MAX_PIXELS. It marks digits 5-8 px high on an
# 800 px photo, which RapidOCR's detector never does at any size. Its surest areas are each
# cut out of the enlarged photo with a margin of twice their height (16 px at least: the
# detector needs the background round a character) and read, detection and recognition, by
# the RapidOCR engine that reads previews.
SMALL_TEXT_ENLARGEMENT = 3.0
# A thumbnail-sized photo (the 256 px interiors of the development set) holds no lettering
# this look could make legible: on 34 of them it read only tiles and knobs ("2", "60066"),
# which with slightly other crop margins became findings on clean photos.
SMALL_TEXT_MIN_SIDE = 480
SMALL_TEXT_MAX_SIDE = 960
SMALL_TEXT_MAX_PIXELS = 4_500_000
SMALL_TEXT_MIN_MEAN = 0.6
SMALL_TEXT_AREAS = 12
SMALL_TEXT_MARGIN = 2.0
SMALL_TEXT_MIN_MARGIN = 16
# A line that reads as a plate only with the box's help (two look-alike characters, a stray
# character at one end, a two-group format such as "ABC 123") counts when its box looks like
# a plate's row of characters and sits where a plate can: wider than tall, not a large part
# of the frame (that is a sign or a close-up of lettering), below the top band of the frame
# (where watermarks and banners sit), and dark characters on a lighter ground (a white,
# yellow or coloured plate): the box's median lies at least PLATE_DARK_CHARACTERS of the way
# from its darkest tenth to its lightest, as it does where the ground outweighs the strokes.
PLATE_BOX_MIN_ASPECT = 1.2
PLATE_BOX_MAX_HEIGHT = 0.25
PLATE_BOX_TOP_BAND = 0.05
PLATE_DARK_CHARACTERS = 0.3
PLATE_MIN_CONTRAST = 30
# One or two digits are what OCR reads into a shelf, a package or a tile more than any other
# string: such a number is a finding only when a closer look confirms it. Its surroundings
# (a margin of a number of times its height on every side) are cut out, enlarged until the
# number is a given height in px (three times at most) and read again, first close, then
# wider; the number holds when a line of digits read there contains it at the text
# threshold. Where only longer lines do, the longest stands for it (the "4" of "204", the "3"
# of "320": the first look saw part of a small number). A number in the edge band of the
# frame, where overlays and watermarks are, is none either, unless it fills the frame.
SHORT_NUMBER_LOOKS = ((0.5, 48), (1.0, 64))
SHORT_NUMBER_EDGE = 0.02
SHORT_NUMBER_CLOSE_UP = 0.5
# The same closer look where the first saw a number only faintly (a line of up to four
# digits too unsure to count): the strongest few are looked at again, and a number of three
# digits or more read there at HOUSE_NUMBER_MIN_SCORE joins the lines (the "2" of a stacked
# "806" read as "806"). Shorter readings do not: on the tuning photos they were a "18" on a
# group photo's shirt and a "2" in a street scene, and no house number. Lines read under
# FAINT_NUMBER_MIN_SCORE are not looked at: on photo-like 24 MP previews, digits read at
# 0.30-0.32 into texture cost a second of crop readings on one photo and led nowhere.
FAINT_NUMBER_MIN_SCORE = 0.5
FAINT_NUMBER_LIMIT = 4
FAINT_NUMBER_MIN_DIGITS = 3
# Two readings of the same string whose boxes overlap more than this (intersection over union)
# are one: two areas of one number, each read with the whole number in its crop.
SAME_READING_OVERLAP = 0.3


def union(a: Box, b: Box) -> Box:
    return Box(x0=min(a.x0, b.x0), y0=min(a.y0, b.y0), x1=max(a.x1, b.x1), y1=max(a.y1, b.y1))


def _height(box: Box) -> float:
    return box.y1 - box.y0


def _same_row(a: Box, b: Box) -> bool:
    """Side by side on one text row: the vertical extents mostly overlap."""
    shared = min(a.y1, b.y1) - max(a.y0, b.y0)
    return shared > 0.5 * min(_height(a), _height(b))


def _stacked(upper: Box, lower: Box) -> bool:
    """`lower` sits right under `upper`, about as wide and centred on it (a two-line plate)."""
    if not upper.y0 < lower.y0:
        return False
    if not 0.5 <= _height(upper) / max(_height(lower), 1e-9) <= 2.0:
        return False
    gap = lower.y0 - upper.y1
    if gap > 0.6 * max(_height(upper), _height(lower)):
        return False
    w_upper, w_lower = upper.x1 - upper.x0, lower.x1 - lower.x0
    if not 0.4 <= w_upper / max(w_lower, 1e-9) <= 2.5:
        return False
    shared = min(upper.x1, lower.x1) - max(upper.x0, lower.x0)
    return shared > 0.5 * min(w_upper, w_lower)


def _alnum(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def _category(items: list[Detection]) -> CategoryResult:
    return CategoryResult(status=Finding.DETECTED if items else Finding.CLEAR, items=items)


def _plate(lines: Iterable[TextLine]) -> Detection:
    parts = sorted(lines, key=lambda ln: (ln.box.y0, ln.box.x0))
    box = parts[0].box
    for part in parts[1:]:
        box = union(box, part.box)
    return Detection(
        label="licence_plate",
        score=round(min(p.score for p in parts), 4),
        box=box,
        text=" ".join(p.text for p in parts),
    )


def _grey(image: Image.Image, box: Box) -> np.ndarray:
    """The pixels of `box` (0–1 coordinates) in `image`, grey levels 0–255."""
    width, height = image.size
    x0, y0 = int(box.x0 * width), int(box.y0 * height)
    x1 = max(x0 + 1, math.ceil(box.x1 * width))
    y1 = max(y0 + 1, math.ceil(box.y1 * height))
    return np.asarray(image.crop((x0, y0, x1, y1)).convert("L"), dtype=np.float32)


def plate_box(image: Image.Image, box: Box) -> bool:
    """Whether `box` looks like the characters of a plate and sits where a plate can."""
    width, height = image.size
    tall = (box.y1 - box.y0) * height
    if tall <= 0 or (box.x1 - box.x0) * width < PLATE_BOX_MIN_ASPECT * tall:
        return False
    if box.y1 - box.y0 > PLATE_BOX_MAX_HEIGHT or box.y0 < PLATE_BOX_TOP_BAND:
        return False
    darkest, middle, lightest = np.percentile(_grey(image, box), (10, 50, 90))
    contrast = lightest - darkest
    return bool(
        contrast >= PLATE_MIN_CONTRAST and middle - darkest >= PLATE_DARK_CHARACTERS * contrast
    )


def find_plates(
    lines: list[TextLine], min_score: float, image: Image.Image | None = None
) -> tuple[list[Detection], set[int]]:
    """Plates among the OCR lines, and the indices of the lines they consumed.

    A plate is a line in a plate format (with the box's help where the string alone is not
    sure, and only when `image` is given), or two stacked lines that make one (motorcycles,
    quads). Short lines on the same row right next to a plate (the EU band's country code,
    a French department number, a seal read as a letter) belong to it.
    """
    used: set[int] = set()
    plates: list[Detection] = []
    strong = [i for i, ln in enumerate(lines) if ln.score >= min_score]
    for i in strong:
        reading = read_plate(lines[i].text)
        if reading is None:
            continue
        if reading.sure or (image is not None and plate_box(image, lines[i].box)):
            used.add(i)
    groups: list[list[int]] = [[i] for i in sorted(used)]
    for i in strong:
        for j in strong:
            if i == j or i in used or j in used:
                continue
            if _stacked(lines[i].box, lines[j].box) and is_two_line_plate(
                lines[i].text, lines[j].text
            ):
                used.update((i, j))
                groups.append([i, j])
    for group in groups:
        members = [lines[k] for k in group]
        height = max(_height(m.box) for m in members)
        for k, line in enumerate(lines):
            if k in used or len(_alnum(line.text)) > 3:
                continue
            near = any(
                _same_row(line.box, m.box)
                and max(line.box.x0 - m.box.x1, m.box.x0 - line.box.x1) < height
                for m in members
            )
            if near:
                used.add(k)  # part of this plate: not reported on its own
        plates.append(_plate(members))
    return plates, used


def _repeated(alnum: str) -> bool:
    """One character over and over: all of a string, or all but one of five or more (a
    four-digit house number such as "1000" or "1211" is not)."""
    if not alnum:
        return False
    most = max(alnum.upper().count(c) for c in set(alnum.upper()))
    return most == len(alnum) or (len(alnum) >= 5 and most == len(alnum) - 1)


def counts_as_text(line: TextLine, min_score: float) -> bool:
    """Whether an OCR line not taken by a plate is a text finding."""
    if line.score < min_score:
        return False
    if _height(line.box) > TALL_LINE and line.score < TALL_LINE_MIN_SCORE:
        return False
    alnum = _alnum(line.text)
    if len(alnum) == 1:
        return alnum.isdigit() and line.score >= SINGLE_CHARACTER_MIN_SCORE
    if _repeated(alnum) and line.score < SINGLE_CHARACTER_MIN_SCORE:
        return False
    if len(alnum) == 2:
        return line.score >= TWO_CHARACTER_MIN_SCORE
    return len(alnum) > 2


def _stacked_near(line: Box, other: Box) -> bool:
    """`other` right above or below `line`, overlapping it across."""
    height = _height(line)
    shared = min(line.x1, other.x1) - max(line.x0, other.x0)
    gap = max(other.y0 - line.y1, line.y0 - other.y1)
    return shared > 0 and gap < height


def in_phrase(line: TextLine, others: list[TextLine]) -> bool:
    """A number among words of about its height, beside it ("Festival 15", "Tel 0203 151")
    or right above or below it (a package's print, a sign's lines): part of that lettering,
    not a house number on its own."""
    height = _height(line.box)
    for other in others:
        if other is line or not any(c.isalpha() for c in other.text):
            continue
        if not 0.5 <= _height(other.box) / max(height, 1e-9) <= 2.0:
            continue
        if _same_row(line.box, other.box):
            gap = max(other.box.x0 - line.box.x1, line.box.x0 - other.box.x1)
            if gap < 1.5 * height:
                return True
        elif _stacked_near(line.box, other.box):
            return True
    return False


def short_number(text: str) -> bool:
    """One or two characters, digits only: what most needs a closer look."""
    alnum = _alnum(text)
    return 1 <= len(alnum) <= 2 and alnum.isdigit()


def classify(
    lines: list[TextLine], thresholds: PrivacyThresholds, image: Image.Image | None = None
) -> tuple[list[Detection], list[Detection]]:
    """(licence plates, text findings) from the OCR lines of one photo; `image` (the photo
    the lines' boxes are in) lets a plate-shaped box count where the string alone is not
    sure."""
    lines = [ln for ln in lines if ln.score >= OCR_FLOOR]
    plates, used = find_plates(lines, thresholds.plate_min_score, image)
    rest = [ln for k, ln in enumerate(lines) if k not in used]
    texts = [ln for ln in rest if counts_as_text(ln, thresholds.text_min_score)]
    items = [
        Detection(
            label=(
                "house_number"
                if ln.score >= HOUSE_NUMBER_MIN_SCORE
                and is_house_number(ln.text)
                and not in_phrase(ln, texts)
                else "text"
            ),
            score=round(ln.score, 4),
            box=ln.box,
            text=ln.text,
        )
        for ln in texts
    ]
    return plates, items


def in_edge_band(box: Box) -> bool:
    """Within SHORT_NUMBER_EDGE of the frame's edge, and not a close-up filling the frame."""
    if box.x1 - box.x0 >= SHORT_NUMBER_CLOSE_UP or box.y1 - box.y0 >= SHORT_NUMBER_CLOSE_UP:
        return False
    edge = SHORT_NUMBER_EDGE
    return min(box.x0, box.y0, 1 - box.x1, 1 - box.y1) < edge


def distinct(lines: list[TextLine]) -> list[TextLine]:
    """`lines` without repeats: of the same string read where it overlaps itself (two areas
    of one number, each read with the whole number in its crop), the surest reading."""
    kept: list[TextLine] = []
    for text in dict.fromkeys(ln.text for ln in lines):
        same = [ln for ln in lines if ln.text == text]
        boxes = np.array([(ln.box.x0, ln.box.y0, ln.box.x1, ln.box.y1) for ln in same])
        scores = np.array([ln.score for ln in same])
        kept += [same[i] for i in sorted(non_max_suppression(boxes, scores, SAME_READING_OVERLAP))]
    return kept


def _scaled_to(image: Image.Image, side: int) -> Image.Image:
    """`image` with its long side at `side` px, up or down."""
    width, height = image.size
    scale = side / max(width, height)
    if abs(scale - 1) < 0.02:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR)


class LocalPrivacyChecks:
    """Faces (CenterFace) and text, plates and house numbers (RapidOCR), all offline."""

    needs_image = True

    def __init__(self, thresholds: PrivacyThresholds | None = None) -> None:
        self.thresholds = t = thresholds or PrivacyThresholds()
        self.models = f"{ocr_version()}, {face_model_version()}, {small_text_model_version()}"
        # Settings and the rules' fixed cut-offs alike: every number a finding depends on is
        # in the result and, through the digest, in the step's input fingerprint.
        self.cutoffs = {k: float(v) for k, v in asdict(t).items()} | {
            "single_character_min_score": SINGLE_CHARACTER_MIN_SCORE,
            "two_character_min_score": TWO_CHARACTER_MIN_SCORE,
            "tall_line": TALL_LINE,
            "tall_line_min_score": TALL_LINE_MIN_SCORE,
            "house_number_min_score": HOUSE_NUMBER_MIN_SCORE,
            "ocr_floor": OCR_FLOOR,
            "max_enlargement": MAX_ENLARGEMENT,
            "ocr_pixel_threshold": PIXEL_THRESHOLD,
            "weak_text_floor": WEAK_TEXT_FLOOR,
            "weak_text_regions": WEAK_TEXT_REGIONS,
            "weak_text_enlargement": WEAK_TEXT_ENLARGEMENT,
            "weak_text_max_side": WEAK_TEXT_MAX_SIDE,
            "small_text_enlargement": SMALL_TEXT_ENLARGEMENT,
            "small_text_min_side": SMALL_TEXT_MIN_SIDE,
            "small_text_max_side": SMALL_TEXT_MAX_SIDE,
            "same_reading_overlap": SAME_READING_OVERLAP,
            "small_text_max_pixels": SMALL_TEXT_MAX_PIXELS,
            "small_text_min_mean": SMALL_TEXT_MIN_MEAN,
            "small_text_areas": SMALL_TEXT_AREAS,
            "small_text_margin": SMALL_TEXT_MARGIN,
            "small_text_min_margin": SMALL_TEXT_MIN_MARGIN,
            "face_overlap": NMS_OVERLAP,
            "plate_box_min_aspect": PLATE_BOX_MIN_ASPECT,
            "plate_box_max_height": PLATE_BOX_MAX_HEIGHT,
            "plate_box_top_band": PLATE_BOX_TOP_BAND,
            "plate_dark_characters": PLATE_DARK_CHARACTERS,
            "plate_min_contrast": PLATE_MIN_CONTRAST,
            "plate_max_corrections": MAX_CORRECTIONS,
            "plate_sure_corrections": SURE_CORRECTIONS,
            "plate_sure_corrected_length": SURE_CORRECTED_LENGTH,
            **{
                f"short_number_look_{k}_{what}": value
                for k, look in enumerate(SHORT_NUMBER_LOOKS, 1)
                for what, value in zip(("margin", "height"), look, strict=True)
            },
            "short_number_edge": SHORT_NUMBER_EDGE,
            "faint_number_min_score": FAINT_NUMBER_MIN_SCORE,
            "faint_number_limit": FAINT_NUMBER_LIMIT,
            "faint_number_min_digits": FAINT_NUMBER_MIN_DIGITS,
            "short_number_close_up": SHORT_NUMBER_CLOSE_UP,
        }
        digest = hashlib.sha256(json.dumps(self.cutoffs, sort_keys=True).encode()).hexdigest()
        self.identity = f"{PROVIDER_VERSION} ({self.models}; thresholds {digest[:8]})"
        self.reader = TextReader(t.threads, t.ocr_detection_side, OCR_FLOOR)
        self.small_reader = TextReader(t.threads, t.ocr_small_photo_side, OCR_FLOOR)
        self.faces = FaceDetector(
            input_side=t.face_input_side, threshold=t.face_min_score, threads=t.threads
        )
        self.small_text = SmallTextDetector(threads=t.threads)

    def find_faces(self, image: Image.Image) -> CategoryResult:
        """Faces of at least the minimum size and score; `not_checked` without the model."""
        try:
            hits = self.faces.detect(image, self.thresholds.face_min_size)
        except ModelUnavailable as exc:
            return CategoryResult(status=Finding.NOT_CHECKED, reason=str(exc), failed=True)
        return _category([Detection(label="face", score=h.score, box=h.box) for h in hits])

    def read_text(self, image: Image.Image) -> tuple[list[TextLine], list[WeakRegion]]:
        """OCR lines of the whole image, and the areas the detector saw faintly (0–1
        coordinates of `image`, like the lines).

        A photo larger than the detection size goes in whole: the engine detects on a copy
        scaled to that size and reads each line from the full-size preview. A smaller photo
        (a preview of a photo under 1600 px) has less detail for the same lettering: it is
        enlarged up to twice, to at most the small-photo size, and detected at that size
        by a second engine, created only when such a photo comes.
        """
        weak = WeakLook(WEAK_TEXT_FLOOR, WEAK_TEXT_REGIONS, WEAK_TEXT_MAX_SIDE)
        if max(image.size) >= self.thresholds.ocr_detection_side:
            return self.reader.scan(image, weak)
        return self.small_reader.scan(self._enlarged(image), weak)

    def _enlarged(self, image: Image.Image) -> Image.Image:
        """A photo under the detection size, enlarged the way `read_text` detects it."""
        long_side = max(image.size)
        target = min(round(long_side * MAX_ENLARGEMENT), self.thresholds.ocr_small_photo_side)
        return _scaled_to(image, max(target, long_side))

    def read_weak_regions(self, image: Image.Image, regions: list[WeakRegion]) -> list[TextLine]:
        """OCR lines of each faint area, read from a crop of `image` around it enlarged
        WEAK_TEXT_ENLARGEMENT times, in 0–1 coordinates of `image`.

        The detector is read at the size used for the first pass; where that was an
        enlarged copy of a small photo, the crops come from the same enlarged copy.
        """
        if max(image.size) < self.thresholds.ocr_detection_side:
            image = self._enlarged(image)
        width, height = image.size
        lines: list[TextLine] = []
        for region in regions:
            box = region.box
            # A margin of the area's own size around it: the detector needs the
            # background round a character to see it as one.
            margin = max((box.x1 - box.x0) * width, (box.y1 - box.y0) * height) + 6
            lines += self._read_around(image, box, margin, WEAK_TEXT_ENLARGEMENT)
        return lines

    def _small(self, image: Image.Image) -> bool:
        """Whether the third look is for `image`: smaller than a camera's preview, larger than
        a thumbnail."""
        return SMALL_TEXT_MIN_SIDE <= max(image.size) < SMALL_TEXT_MAX_SIDE

    def read_small_text(self, image: Image.Image) -> list[TextLine]:
        """OCR lines where the small-text detector sees lettering on `image` enlarged
        SMALL_TEXT_ENLARGEMENT times, in 0–1 coordinates of `image`.

        Raises ModelUnavailable when the detector's model is not installed.
        """
        width, height = image.size
        scale = min(SMALL_TEXT_ENLARGEMENT, math.sqrt(SMALL_TEXT_MAX_PIXELS / (width * height)))
        size = (max(width, round(width * scale)), max(height, round(height * scale)))
        enlarged = image.resize(size, Image.Resampling.BICUBIC)
        lines: list[TextLine] = []
        for box in self.small_text.find(enlarged, SMALL_TEXT_MIN_MEAN, SMALL_TEXT_AREAS):
            margin = max(SMALL_TEXT_MARGIN * (box.y1 - box.y0) * size[1], SMALL_TEXT_MIN_MARGIN)
            lines += self._read_around(enlarged, box, margin, 1.0)
        return distinct(lines)

    def _closer_lines(self, image: Image.Image, box: Box, digits: str) -> Iterator[TextLine]:
        """Lines of digits containing `digits` at the text threshold that the looks of
        SHORT_NUMBER_LOOKS read around `box`, look by look."""
        tall = max((box.y1 - box.y0) * image.height, 1.0)
        for margin, number_height in SHORT_NUMBER_LOOKS:
            enlargement = min(max(number_height / tall, 1.0), WEAK_TEXT_ENLARGEMENT)
            for line in self._read_around(image, box, margin * tall, enlargement):
                read = _alnum(line.text)
                if (
                    read.isdigit()
                    and digits in read
                    and line.score >= self.thresholds.text_min_score
                ):
                    yield line

    def closer_look(self, image: Image.Image, item: Detection) -> Detection | None:
        """A one- or two-digit finding as a closer look reads it (SHORT_NUMBER_LOOKS), or
        None where it does not hold."""
        if item.box is None or item.text is None or in_edge_band(item.box):
            return None
        digits = _alnum(item.text)
        longer: list[TextLine] = []
        for line in self._closer_lines(image, item.box, digits):
            if len(_alnum(line.text)) == len(digits):
                return item
            longer.append(line)
        if not longer:
            return None
        # Part of a longer number: the wider look sees more of it.
        line = max(longer, key=lambda ln: (len(_alnum(ln.text)), ln.score))
        number = item.label == "house_number" and is_house_number(line.text)
        return Detection(
            label="house_number" if number else "text",
            score=round(line.score, 4),
            box=line.box,
            text=line.text,
        )

    def faint_numbers(self, image: Image.Image, lines: list[TextLine]) -> list[TextLine]:
        """House numbers the closer look reads where `lines` hold a number too faintly to
        count (from FAINT_NUMBER_MIN_SCORE, the FAINT_NUMBER_LIMIT strongest, outside the edge
        band)."""
        faint = [
            ln
            for ln in lines
            if ln.score >= FAINT_NUMBER_MIN_SCORE
            and _alnum(ln.text).isdigit()
            and len(_alnum(ln.text)) <= 4
            and not counts_as_text(ln, self.thresholds.text_min_score)
            and not in_edge_band(ln.box)
        ]
        faint.sort(key=lambda ln: ln.score, reverse=True)
        found: list[TextLine] = []
        for ln in faint[:FAINT_NUMBER_LIMIT]:
            for line in self._closer_lines(image, ln.box, _alnum(ln.text)):
                if (
                    len(_alnum(line.text)) >= FAINT_NUMBER_MIN_DIGITS
                    and line.score >= HOUSE_NUMBER_MIN_SCORE
                    and is_house_number(line.text)
                ):
                    found.append(line)
                    break
        return distinct(found)

    def classify(
        self, image: Image.Image, lines: list[TextLine]
    ) -> tuple[list[Detection], list[Detection]]:
        """`classify` with the box's help for plates and a closer look at short and faint
        numbers."""
        plates, items = classify(lines + self.faint_numbers(image, lines), self.thresholds, image)
        kept: list[Detection] = []
        for item in items:
            looked = self.closer_look(image, item) if short_number(item.text or "") else item
            if looked is not None:
                kept.append(looked)
        return plates, kept

    def _read_around(
        self, image: Image.Image, box: Box, margin: float, enlargement: float
    ) -> list[TextLine]:
        """OCR lines of the crop of `image` around `box` (0–1 coordinates) with `margin` px on
        every side, enlarged `enlargement` times, in 0–1 coordinates of `image`."""
        width, height = image.size
        x0 = max(0, int(box.x0 * width - margin))
        y0 = max(0, int(box.y0 * height - margin))
        x1 = min(width, int(box.x1 * width + margin) + 1)
        y1 = min(height, int(box.y1 * height + margin) + 1)
        crop = image.crop((x0, y0, x1, y1))
        if enlargement != 1.0:
            size = (round(crop.width * enlargement), round(crop.height * enlargement))
            crop = crop.resize(size, Image.Resampling.BICUBIC)
        lines = []
        for line in self.reader.read(crop):
            b = line.box
            placed = Box(
                x0=(x0 + b.x0 * (x1 - x0)) / width,
                y0=(y0 + b.y0 * (y1 - y0)) / height,
                x1=(x0 + b.x1 * (x1 - x0)) / width,
                y1=(y0 + b.y1 * (y1 - y0)) / height,
            )
            lines.append(TextLine(line.text, line.score, placed))
        return lines

    def analyze(self, image: Image.Image | None) -> PrivacyResult:
        if image is None:
            raise ValueError("the local privacy check needs the image")
        # The first photo of a process scans for faces while the OCR library loads.
        self.reader.start_import()
        image = image.convert("RGB")
        faces = self.find_faces(image)
        lines, weak = self.read_text(image)
        plates, text_items = self.classify(image, lines)
        if not plates and not text_items and weak:
            plates, text_items = self.classify(image, self.read_weak_regions(image, weak))
        unchecked: CategoryResult | None = None
        if not plates and not text_items and self._small(image):
            try:
                plates, text_items = self.classify(image, self.read_small_text(image))
            except ModelUnavailable as exc:
                # Small lettering, plates' included, went unlooked-for: never `clear`.
                unchecked = CategoryResult(status=Finding.NOT_CHECKED, reason=str(exc), failed=True)
        return PrivacyResult(
            provider=self.identity,
            faces=faces,
            licence_plates=unchecked or _category(plates),
            logos=CategoryResult(status=Finding.NOT_CHECKED, reason="no local logo model"),
            text=unchecked or _category(text_items),
            model_version=self.models,
            thresholds=dict(self.cutoffs),
        )
