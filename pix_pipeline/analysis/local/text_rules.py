"""What a piece of recognised text is: a house number, a licence plate, or other text.

The rules judge the string's shape only; where it stands in the photo is the caller's
business (privacy.py). Each accepted and each rejected shape has a unit test.
"""

import re

# Separators OCR reads between the groups of a plate or a number: hyphens and dashes, the
# Dutch and Portuguese middle dot (often read as "·", "•" or a full stop), slashes, spaces.
_PLATE_SEPARATORS = re.compile(r"[\s\-–—‐·•∙‧.:_]+")

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
# Plates are matched on their alphanumeric characters, upper case, with the separators
# OCR kept (or dropped) ignored, unless a format needs them to tell it from a word.
# Germany as OCR mostly reads it, without any gap: district and letters (2-5 letters in
# all), 2-4 digits, E (electric) or H (historic): "SB3893", "KLY73", "BNCE5240". Only for a
# string without a gap: "EXIT 12" or "ROOM 12" on a sign has one where a plate has none.
_GERMAN_UNSPACED = re.compile(r"^[A-ZÄÖÜ]{2,5}\d{2,4}[EH]?$")
_COMPACT_FORMATS = (
    # France and Italy: AB-123-CD, in France often with the department band read as 1-3
    # extra digits ("CX-408-PX35").
    r"[A-Z]{2}\d{3}[A-Z]{2}\d{0,3}",
    # France before 2009: 1-4 digits, 1-3 letters, the department ("1020 HG 90", "2A").
    r"\d{1,4}[A-Z]{1,3}(?:\d{2}|2A|2B)",
    # Spain since 2000: 1234 BCD.
    r"\d{4}[A-Z]{3}",
    # Ukraine (AI 5255 EI, B 8233 XA), Spain before 2000 (M 1234 AB), Bulgaria.
    r"[A-Z]{1,2}\d{4}[A-Z]{1,2}",
    # Romania (B 75 HCY, IF 05 TAC, B 101 JGV) and the UK since 2001 (AB12 CDE).
    r"[A-Z]{1,2}\d{2,3}[A-Z]{3}",
    # UK prefix (A123 BCD) and suffix (ABC 123D) styles.
    r"[A-Z]\d{1,3}[A-Z]{3}",
    r"[A-Z]{3}\d{1,3}[A-Z]",
    # Russia and neighbours, with the region: A123BC77 (Cyrillic letters read as Latin).
    r"[A-Z]\d{3}[A-Z]{2}\d{2,3}",
    # Belgium: 1-ABC-123; Czechia: 1A2 3456.
    r"\d[A-Z]{3}\d{3}",
    r"\d[A-Z]\d{5}",
    # North America: FBE-3488, ABC 1234, 7ABC123.
    r"[A-Z]{3}\d{4}",
    r"\d[A-Z]{3}\d{3}",
)
_COMPACT = re.compile("^(?:" + "|".join(_COMPACT_FORMATS) + ")$")

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
_COUNTRY_CODES = {"D", "A", "F", "NL", "CH", "I", "E", "GB", "UK", "P", "PL", "RO", "UA", "B"}


def plate_candidate(text: str) -> str:
    """Upper case, every separator a single space, umlauts kept (German districts)."""
    return _PLATE_SEPARATORS.sub(" ", text.upper()).strip()


def _matches(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 4 <= len(compact) <= 10 or not compact.isalnum():
        return False
    if not (any(c.isdigit() for c in compact) and any(c.isalpha() for c in compact)):
        return False
    if _COMPACT.match(compact):
        return True
    if " " not in candidate and _GERMAN_UNSPACED.match(candidate):
        return True
    if any(p.match(candidate) for p in _GROUPED):
        return True
    groups = _THREE_GROUPS.match(candidate)
    if groups and len(compact) in (6, 7):
        kinds = [g.isdigit() for g in groups.groups()]
        return any(kinds) and not all(kinds)
    return False


def is_licence_plate(text: str) -> bool:
    """A vehicle registration in one of the European, UK or North American formats.

    Plates are written in capitals, so a line with a lower-case letter is not one.
    """
    if any(c.islower() for c in text):
        return False
    candidate = plate_candidate(text)
    first, _, rest = candidate.partition(" ")
    options = [candidate]
    if first in _COUNTRY_CODES and rest:
        options.append(rest)
    return any(_matches(o) for o in options)


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
