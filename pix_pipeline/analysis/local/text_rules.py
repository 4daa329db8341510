"""What a piece of recognised text is: a house number, a licence plate, or other text.

The rules judge the string's shape only; where it stands in the photo is the caller's
business (privacy.py). Each accepted and each rejected shape has a unit test.
"""

import re
from dataclasses import dataclass
from functools import cache

# --- House numbers ---------------------------------------------------------------------
# The number itself: 1-5 digits not starting with 0, then an optional letter ("17b",
# "7 A", "502C"). Five digits occur in long streets and in US addresses.
_NUMBER = r"[1-9]\d{0,4}(?:\s?[A-Za-z])?"
_HOUSE_NUMBER = re.compile(
    rf"""^(?:
        (?:NR|NO|N°|\#)\.?\s?{_NUMBER}            # "Nr. 12", "No 5", "#7"
      | {_NUMBER}                                # "42", "17b", "7 A", "12345"
      | {_NUMBER}\s?[-/]\s?{_NUMBER}             # a range or a pair: "3-5", "12/14"
      | [A-Za-z]\s?[-/]\s?{_NUMBER}              # block or staircase + number: "B/1404"
    )$""",
    re.VERBOSE | re.IGNORECASE,
)
# Four-digit numbers of the 20th and 21st century are dates on signs, cornerstones and
# camera stamps far more often than house numbers.
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def normalise(text: str) -> str:
    """Single spaces, a plain hyphen for every dash, no surrounding punctuation."""
    cleaned = re.sub(r"[–—‐]", "-", text)
    cleaned = re.sub(r"\s*([-/])\s*", r"\1", cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned)
    return cleaned.strip(" .,;:!?\"'()[]{}")


def is_house_number(text: str) -> bool:
    """A house or building number: "42", "17b", "3-5", "12/14", "B/1404", "Nr. 7".

    Not a phone number (6+ digits or a leading 0), a year (1900-2099), a date, a string of
    zeros, or a number inside a phrase ("'15" of a festival banner keeps its apostrophe).
    """
    if re.search(r"['’`´]\s?\d", text):  # an abbreviated year: '15
        return False
    candidate = normalise(text)
    if not _HOUSE_NUMBER.match(candidate):
        return False
    digits = re.sub(r"\D", "", candidate)
    return not _YEAR.match(digits) or len(candidate) != len(digits)


# --- Licence plates --------------------------------------------------------------------
# Plates are matched on their letters and digits, upper case, with whatever OCR read between
# the groups (hyphens, the Dutch and Portuguese middle dot, "=" for a hyphen on a dirty
# plate, bolts read as "|" or ":") taken as a gap.
_PLATE_NOISE = re.compile(r"[\s\-–—‐·•∙‧.:_=|,;'\"`*+~°()\[\]{}<>«»]+")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
# Characters plate fonts make OCR read as their look-alike: O/0, I/1, B/8, S/5, Z/2, G/6.
_LOOK_ALIKES = {"O": "0", "I": "1", "B": "8", "S": "5", "Z": "2", "G": "6"}
_AS_DIGIT = frozenset(_LOOK_ALIKES)
_AS_LETTER = frozenset(_LOOK_ALIKES.values())
# At most this many look-alikes in one reading, and never more than a third of it. One in a
# distinctive format of seven characters or more (a whole plate) is sure from the string alone;
# more, or one in a shorter string ("WIFI 5G"), and the box must look like a plate.
MAX_CORRECTIONS = 2
SURE_CORRECTIONS = 1
SURE_CORRECTED_LENGTH = 7


@dataclass(frozen=True)
class PlateFormat:
    """A registration format in general form: groups of letters (L), digits (D) or either
    (X), each with a length or a range ("L2 D3 L2", "D1-4 L1-3 D2"), matched on the string
    without its gaps. A `distinctive` format has groups no word with a number makes (three
    or more, letters and digits alternating); a two-group one ("ABC 123") is also a room
    number or a sign, so it needs the box to look like a plate."""

    regions: str
    spec: str
    distinctive: bool = True

    @property
    def groups(self) -> tuple[tuple[str, int, int], ...]:
        parsed = []
        for token in self.spec.split():
            low, _, high = token[1:].partition("-")
            parsed.append((token[0], int(low), int(high or low)))
        return tuple(parsed)


PLATE_FORMATS = (
    PlateFormat("France, Italy, Slovakia (France with the department band)", "L2 D3 L2 D0-3"),
    PlateFormat("France before 2009", "D1-4 L1-3 D2"),
    PlateFormat("Ukraine, Bulgaria, Croatia, Spain before 2000", "L1-2 D3-4 L1-2"),
    PlateFormat("Romania, United Kingdom since 2001", "L1-2 D2-3 L3"),
    PlateFormat("United Kingdom prefix, South Australia, Quebec", "L1 D1-3 L3"),
    PlateFormat("United Kingdom suffix, Sweden, New South Wales", "L3 D1-3 L1"),
    PlateFormat("Russia and neighbours, with the region", "L1 D3 L2 D2-3"),
    PlateFormat("Belgium, California, Western Australia", "D1 L3 D3"),
    PlateFormat("Czechia", "D1 L1 X1 D4"),
    PlateFormat("Victoria (Australia)", "D1 L2 D1 L2"),
    PlateFormat("New South Wales, Portugal since 2020", "L2 D2 L2"),
    PlateFormat("Portugal", "D2 L2 D2"),
    PlateFormat("Ireland, Turkey", "D2-3 L1-3 D1-6"),
    PlateFormat("Poland", "L2-3 D1 L1-2 D2-3"),
    PlateFormat("Spain", "D4 L3"),
    PlateFormat("North America, Greece", "L3 D4"),
    # Two groups, letters and digits: Scandinavia, the Baltic states, Hungary, Switzerland,
    # Poland, Latvia, Estonia, Queensland, many US states.
    PlateFormat("two groups, letters first", "L2-3 D3-5", distinctive=False),
    PlateFormat("two groups, digits first", "D3-4 L2-3", distinctive=False),
)

# Germany as OCR mostly reads it, without any gap: district and letters (2-5 letters in
# all), 2-4 digits, E (electric) or H (historic): "SB3893", "KLY73", "BNCE5240". Only for a
# string without a gap: "EXIT 12" or "ROOM 12" on a sign has one where a plate has none.
_GERMAN_UNSPACED = re.compile(r"^[A-ZÄÖÜ]{2,5}\d{2,4}[EH]?$")
# Formats that need their separators, because without them they read like a word with a
# number ("ROOM12"): Germany (district, letters, digits: "M AB 1234", "B-XY-123E",
# "HH A 1"), Austria, Switzerland, Poland, Scandinavia ("W 12345 A", "ZH 123456",
# "WA 12345", "ABC 123", "AB 12 345").
_GROUPED = (
    re.compile(r"^[A-ZÄÖÜ]{1,3} [A-Z]{1,2} \d{1,4}[EH]?$"),
    re.compile(r"^[A-ZÄÖÜ]{1,3} [A-Z]{1,2}\d{1,4}[EH]?$"),
    # At least five characters: "W 315" on a street sign is a direction and a number.
    re.compile(r"^(?=(?:\w ?){5})[A-Z]{1,3} \d{3,6}(?: ?[A-Z]{1,2})?$"),
    re.compile(r"^[A-Z]{2} \d{2} \d{3}$"),
)
# Three groups of one kind each (letters or digits), six or seven characters: the Dutch
# sidecodes (12-ABC-3, AB-123-C, 1-ABC-23 …) and Portugal (20-46-XC, 34-IN-75, AA-00-AA).
_THREE_GROUPS = re.compile(r"^([A-Z]{1,3}|\d{1,3}) ([A-Z]{1,3}|\d{1,3}) ([A-Z]{1,3}|\d{1,3})$")

# The country code of the EU band, read as a separate word before the plate.
_COUNTRY_CODES = {
    "A", "B", "BG", "CH", "CZ", "D", "DK", "E", "EST", "F", "FIN", "GB", "GR", "H", "HR",
    "I", "IRL", "L", "LT", "LV", "N", "NL", "P", "PL", "RO", "S", "SK", "SLO", "UA", "UK",
}  # fmt: skip


# A month's name between numbers makes a date ("12 JAN 2024" has the Turkish plate's groups).
_MONTHS = frozenset(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
)


@dataclass(frozen=True)
class PlateReading:
    """How a string reads as a plate: `corrections` look-alike characters taken for the
    other kind, and whether the string alone is `sure` (otherwise the box must look like a
    plate: privacy.py judges that)."""

    corrections: int
    sure: bool


def plate_candidate(text: str) -> str:
    """Upper case, every separator or noise character a single space, umlauts kept."""
    return _PLATE_NOISE.sub(" ", text.upper()).strip()


def _cost(char: str, kind: str) -> int | None:
    """0 when `char` is of `kind`, 1 when it is a look-alike of one, None otherwise."""
    if kind == "X":
        return 0 if char in _LETTERS or char in _DIGITS else None
    if kind == "L":
        return 0 if char in _LETTERS else (1 if char in _AS_LETTER else None)
    return 0 if char in _DIGITS else (1 if char in _AS_DIGIT else None)


def format_corrections(compact: str, plate_format: PlateFormat) -> int | None:
    """The fewest look-alikes `compact` needs read as the other kind to fit the format, or
    None when it cannot fit."""
    groups = plate_format.groups

    @cache
    def fit(at: int, group: int) -> int | None:
        if group == len(groups):
            return 0 if at == len(compact) else None
        kind, low, high = groups[group]
        best: int | None = None
        spent = 0
        for taken in range(high + 1):
            # A group of one character read as its look-alike is no evidence of the format:
            # a lone letter among digits is where OCR's confusions sit ("ROOM" as "RO0M").
            if taken >= low and not (taken == 1 and spent):
                rest = fit(at + taken, group + 1)
                if rest is not None and (best is None or spent + rest < best):
                    best = spent + rest
            if at + taken >= len(compact):
                break
            cost = _cost(compact[at + taken], kind)
            if cost is None:
                break
            spent += cost
        return best

    return fit(0, 0)


def _exact_reading(candidate: str) -> bool:
    """The formats that hold on the string as read, with its gaps."""
    if " " not in candidate and _GERMAN_UNSPACED.match(candidate):
        return True
    if any(p.match(candidate) for p in _GROUPED):
        return True
    groups = _THREE_GROUPS.match(candidate)
    if groups and len(candidate.replace(" ", "")) in (6, 7):
        kinds = [g.isdigit() for g in groups.groups()]
        return any(kinds) and not all(kinds)
    return False


def _reading(candidate: str) -> PlateReading | None:
    compact = candidate.replace(" ", "")
    if not 4 <= len(compact) <= 10 or not compact.isalnum():
        return None
    if not (any(c.isdigit() for c in compact) and any(c.isalpha() for c in compact)):
        return None
    if _exact_reading(candidate):
        return PlateReading(0, sure=True)
    best: PlateReading | None = None
    allowed = min(MAX_CORRECTIONS, len(compact) // 3)
    for plate_format in PLATE_FORMATS:
        corrections = format_corrections(compact, plate_format)
        if corrections is None or corrections > allowed:
            continue
        sure = plate_format.distinctive and (
            corrections == 0
            or (corrections <= SURE_CORRECTIONS and len(compact) >= SURE_CORRECTED_LENGTH)
        )
        reading = PlateReading(corrections, sure)
        if best is None or (reading.sure, -reading.corrections) > (best.sure, -best.corrections):
            best = reading
    return best


def read_plate(text: str) -> PlateReading | None:
    """How `text` reads as a vehicle registration, or None when it cannot be one.

    Plates are written in capitals, so a line with a lower-case letter is not one, nor is a
    house number ("NR. 12A") or a date with a month's name ("12 JAN 2024"). A country
    code of the EU band before the plate is tolerated; so is one stray character at either
    end (a bolt, a sticker, the band's edge), but then the box must look like a plate.
    """
    if any(c.islower() for c in text) or is_house_number(text):
        return None  # "NR. 12A" is a house number
    candidate = plate_candidate(text)
    words = candidate.split(" ")
    if _MONTHS.intersection(words):
        return None
    readings = [_reading(candidate)]
    if len(words) > 1 and words[0] in _COUNTRY_CODES:
        readings.append(_reading(" ".join(words[1:])))
    for stray, rest in ((words[0], words[1:]), (words[-1], words[:-1])):
        found = _reading(" ".join(rest)) if len(words) > 1 and len(stray) == 1 else None
        if found is not None:
            readings.append(PlateReading(found.corrections, sure=False))
    found_readings = [r for r in readings if r is not None]
    if not found_readings:
        return None
    return max(found_readings, key=lambda r: (r.sure, -r.corrections))


def is_licence_plate(text: str) -> bool:
    """A vehicle registration, sure from the string alone (see `read_plate`)."""
    reading = read_plate(text)
    return reading is not None and reading.sure


def is_two_line_plate(upper: str, lower: str) -> bool:
    """Two stacked lines that make one plate (motorcycles, quads, square plates): letters
    over digits or digits over letters, or two halves that together match a format."""
    if any(c.islower() for c in upper + lower):
        return False
    top, bottom = plate_candidate(upper).replace(" ", ""), plate_candidate(lower).replace(" ", "")
    for a, b in ((top, bottom), (bottom, top)):
        if re.fullmatch(r"[A-Z]{2,3}", a) and re.fullmatch(r"\d{3,5}", b):
            return True
    # Otherwise the two halves must make a plate with the gap between them.
    return is_licence_plate(f"{plate_candidate(upper)} {plate_candidate(lower)}")
