"""What a piece of recognised text is: a house number, a licence plate, or other text."""

import re

# A house number: 1-4 digits with an optional letter ("42", "17b", "7 A") or a range
# ("3-5", "12/14"). The whole string must match, so "1234 Main St" is other text.
_HOUSE_NUMBER = re.compile(r"^\d{1,4}\s?[a-zA-Z]?$|^\d{1,4}\s?[-–/]\s?\d{1,4}[a-zA-Z]?$")

# Licence plates, after normalisation to upper case with single spaces.
_PLATE_FORMATS = (
    # Germany: district (1-3 letters), 1-2 letters, 1-4 digits, optional E (electric) or H
    # (historic): "M AB 1234", "B-XY 123E", "HH A 1". OCR often drops the gap where the
    # seals sit, so it is optional.
    re.compile(r"^[A-ZÄÖÜ]{1,3}[ -]?[A-Z]{1,2} ?\d{1,4}[EH]?$"),
    # France / Italy / Spain-like: "AB-123-CD", "AB 123 CD", "1234 BCD".
    re.compile(r"^[A-Z]{2}[ -]?\d{3}[ -]?[A-Z]{2}$"),
    re.compile(r"^\d{4} ?[A-Z]{3}$"),
    # Netherlands sidecodes: "12-ABC-3", "AB-123-C", "1-ABC-23".
    re.compile(r"^[A-Z0-9]{1,3}-[A-Z0-9]{2,3}-[A-Z0-9]{1,3}$"),
    # Austria / Switzerland: "W 12345 A", "ZH 123456".
    re.compile(r"^[A-Z]{1,2} ?\d{3,6} ?[A-Z]{0,2}$"),
    # UK: "AB12 CDE".
    re.compile(r"^[A-Z]{2}\d{2} ?[A-Z]{3}$"),
)
# OCR often reads the EU band's "D" or the seal stickers as separate characters: tolerate
# a leading country letter or a trailing noise character around a plate.
_COUNTRY_PREFIX = re.compile(r"^(?:D|A|F|NL|CH|I|E|GB)\s+")


def normalise(text: str) -> str:
    cleaned = re.sub(r"[^\w\s\-–/äöüÄÖÜ]", " ", text).replace("–", "-")
    cleaned = re.sub(r"\s*-\s*", "-", cleaned)
    return re.sub(r"\s+", " ", cleaned).strip()


def is_house_number(text: str) -> bool:
    return bool(_HOUSE_NUMBER.match(normalise(text)))


def is_licence_plate(text: str) -> bool:
    candidate = normalise(text).upper()
    if not (any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate)):
        return False
    options = {candidate, _COUNTRY_PREFIX.sub("", candidate)}
    return any(p.match(o) for p in _PLATE_FORMATS for o in options)
