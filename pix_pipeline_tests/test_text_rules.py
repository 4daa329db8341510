"""The string rules: which OCR strings are licence plates and which are house numbers.

One case per accepted and per rejected shape, as OCR returns them (separators it keeps or
drops, the middle dot it reads for the Dutch and Portuguese separator).
"""

import pytest

from pix_pipeline.analysis.local.text_rules import (
    PLATE_FORMATS,
    PlateReading,
    format_corrections,
    is_house_number,
    is_licence_plate,
    is_two_line_plate,
    read_plate,
)

PLATES = {
    "German with spaces": "M AB 1234",
    "German, hyphen and space, electric": "B-XY 123E",
    "German, short": "HH A 1",
    "German with several hyphens": "M-AB-1234",
    "German with the EU band's D": "D KA F 621",
    "German district with an umlaut": "LÖ-AB 12",
    "German read without gaps": "SB3893",
    "German read without gaps, short": "MF96",
    "French": "AB-123-CD",
    "French with the department band read as digits": "CX-408-PX35",
    "French before 2009": "1020HG90",
    "Italian": "AB 123 CD",
    "Spanish": "1234 BCD",
    "Dutch sidecode with middle dots": "12·ABC·3",
    "Dutch sidecode, middle dot read as a space": "AB 123 C",
    "Dutch sidecode with hyphens": "1-ABC-23",
    "Portuguese with middle dots": "20·46·XC",
    "Portuguese mixed separators": "34-IN·75",
    "Belgian": "1-ABC-123",
    "UK current": "AB12 CDE",
    "UK prefix": "A123 BCD",
    "UK suffix": "ABC 123D",
    "Ukrainian": "AI 5255 EI",
    "Ukrainian without spaces": "BE7425CB",
    "Romanian, Bucharest": "B 75 HCY",
    "Romanian county": "IF 05 TAC",
    "Austrian": "W 12345 A",
    "Swiss": "ZH 123456",
    "Polish": "WA 12345",
    "Danish": "AB 12 345",
    "Czech": "1A2 3456",
    "Russian with region": "A123BC77",
    "North American": "FBE-3488",
    "Californian": "7ABC123",
    "Slovak": "BA-123AB",
    "Polish, letters among the digits": "WE 1AB23",
    "Polish, three-letter district": "KRA 1A23",
    "Croatian": "ZG 1234-AB",
    "Irish": "191-D-12345",
    "Turkish": "34 ABC 123",
    "Greek": "ABC-1234",
    "Victorian": "1AB 2CD",
    "New South Wales": "AB 12 CD",
    "Portuguese since 2020": "AA-00-AA",
    "Slovak with the EU band": "SK BA-123AB",
    "hyphens read as equals signs": "B=75=HCY",
    "a bolt read as a bar": "| AB-123-CD",
    "a stain read as an asterisk": "AB*123*CD",
    "an O read for the zero of a whole plate": "AB-1O3-CD",
    "a one read as I in a whole plate": "AI 52I5 EI",
    "UK with a zero where OCR may read O or 0": "LV69 0GK",
}

NOT_PLATES = {
    "a word": "Hausverwaltung",
    "a house number": "42a",
    "a bare number": "1234",
    "a name sign": "Praxis Dr. Weber",
    "a price with a letter": "L159",
    "one letter and a number": "B101",
    "a paper size": "A4",
    "a German-like string with one digit and no gaps": "EXIT1",
    "a word and a number on a sign": "EXIT 12",
    "lower case": "ab-123-cd",
    "a web address": "www.Avto-Nomer.ru",
    "a phone number": "0203 151",
    "too short": "3·GZ",
    "too long": "ABCDEF-123456",
    "a model badge": "X6",
    "a room number with an O read as zero": "ROOM 123",
    "a lone look-alike between letters and digits": "EXIT 12",
    "a word and a year": "HOTEL 2020",
    "a Wi-Fi sign": "WIFI 5G",
    "a car model": "VOLVO XC90",
    "a model with a digit": "AUDI A4",
    "a date with a month's name": "12 JAN 2024",
    "a house number with its letter, in capitals": "NR. 123A",
}


# A string that fits a format only with help from the box: privacy.py then asks whether the
# box looks like a plate.
NEEDS_THE_BOX = {
    "two look-alikes (8 for B) in a whole plate": ("8E 7425 C8", 2),
    "one look-alike in a short two-group plate": ("AB 12S", 1),
    "Queensland, digits then letters": ("123 ABC", 0),
    "a stray character before the plate": ("7 AB-123-CD", 0),
}


@pytest.mark.parametrize("text", PLATES.values(), ids=PLATES.keys())
def test_licence_plate_formats_are_recognised(text: str):
    assert is_licence_plate(text)


@pytest.mark.parametrize("text", NOT_PLATES.values(), ids=NOT_PLATES.keys())
def test_other_strings_are_not_licence_plates(text: str):
    assert not is_licence_plate(text)


@pytest.mark.parametrize(("text", "corrections"), NEEDS_THE_BOX.values(), ids=NEEDS_THE_BOX.keys())
def test_strings_that_fit_a_format_only_with_the_box_are_not_sure_plates(
    text: str, corrections: int
):
    reading = read_plate(text)
    assert reading is not None and not reading.sure, reading
    assert reading.corrections == corrections
    assert not is_licence_plate(text)


def test_a_reading_counts_the_look_alikes_it_needs():
    france = next(f for f in PLATE_FORMATS if f.spec.startswith("L2 D3 L2"))
    assert format_corrections("AB123CD", france) == 0
    assert format_corrections("A8123CD", france) == 1  # B read as 8
    assert format_corrections("A81Z3CD", france) == 2  # B read as 8, 2 as Z
    assert format_corrections("AB123C", france) is None  # too short
    assert format_corrections("ABX23CD", france) is None  # X has no look-alike digit
    assert format_corrections("ABIZSCD", france) == 3
    assert read_plate("AB-IZS-CD") is None  # three look-alikes: more than MAX_CORRECTIONS
    assert read_plate("AB-123-CD") == PlateReading(0, sure=True)


def test_a_lone_look_alike_group_is_no_evidence_of_a_format():
    poland = next(f for f in PLATE_FORMATS if f.regions == "Poland")
    assert format_corrections("WE1AB23", poland) == 0
    assert format_corrections("ROOM123", poland) is None  # "O" alone taken as a zero


@pytest.mark.parametrize(
    ("upper", "lower"), [("BX", "10922"), ("M AB", "123"), ("10922", "BX"), ("HH", "1234")]
)
def test_two_stacked_lines_make_a_plate(upper: str, lower: str):
    assert is_two_line_plate(upper, lower)


@pytest.mark.parametrize(
    ("upper", "lower"),
    [("W", "315"), ("ILM", "10"), ("西", "315"), ("Haus", "12"), ("EXIT", "12")],
)
def test_stacked_lines_of_a_sign_are_not_a_plate(upper: str, lower: str):
    assert not is_two_line_plate(upper, lower)


HOUSE_NUMBERS = {
    "two digits": "42",
    "with a letter": "17b",
    "with a spaced letter": "7 A",
    "capital letter": "502C",
    "a range": "3-5",
    "a pair": "12/14",
    "single digit": "4",
    "block and number": "B/1404",
    "five digits": "12345",
    "four digits": "1300",
    "with Nr.": "Nr. 7",
}

NOT_HOUSE_NUMBERS = {
    "a name": "Familie Müller",
    "a street address": "1234 Main St",
    "letters": "abc",
    "a word after the number": "42abc",
    "a phone number": "0203 151",
    "a long phone number": "0203151",
    "six digits": "123456",
    "a year": "1990",
    "a recent year": "2011",
    "an abbreviated year": "'15",
    "a date": "07/16/2011",
    "zeros": "000",
    "zero": "0",
    "a leading zero": "07",
}


@pytest.mark.parametrize("text", HOUSE_NUMBERS.values(), ids=HOUSE_NUMBERS.keys())
def test_house_numbers_are_recognised(text: str):
    assert is_house_number(text)


@pytest.mark.parametrize("text", NOT_HOUSE_NUMBERS.values(), ids=NOT_HOUSE_NUMBERS.keys())
def test_other_text_is_not_a_house_number(text: str):
    assert not is_house_number(text)
