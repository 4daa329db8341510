"""The string rules: which OCR strings are licence plates and which are house numbers.

One case per accepted and per rejected shape, as OCR returns them (separators it keeps or
drops, the middle dot it reads for the Dutch and Portuguese separator).
"""

import pytest

from pix_pipeline.analysis.local.text_rules import (
    is_house_number,
    is_licence_plate,
    is_two_line_plate,
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
}


@pytest.mark.parametrize("text", PLATES.values(), ids=PLATES.keys())
def test_licence_plate_formats_are_recognised(text: str):
    assert is_licence_plate(text)


@pytest.mark.parametrize("text", NOT_PLATES.values(), ids=NOT_PLATES.keys())
def test_other_strings_are_not_licence_plates(text: str):
    assert not is_licence_plate(text)


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
