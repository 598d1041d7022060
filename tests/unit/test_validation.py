import pytest

from app.validation import InvalidAnswer, clean_nhs_number, clean_postcode


@pytest.mark.parametrize(
    "raw",
    ["9434765919", "943 476 5919", "943-476-5919", " 943 476 5919 ", "(943) 476.5919"],
)
def test_nhs_number_accepts_spaces_hyphens_and_punctuation(raw):
    assert clean_nhs_number(raw) == "9434765919"


def test_nhs_number_check_digit_eleven_means_zero():
    # 401 023 211 has weighted sum 88 (88 mod 11 = 0): 11 - 0 = 11, so the check digit is 0.
    assert clean_nhs_number("4010232110") == "4010232110"
    with pytest.raises(InvalidAnswer):
        clean_nhs_number("4010232111")


@pytest.mark.parametrize("raw", ["9434765918", "9434765910", "1234567890"])
def test_nhs_number_with_wrong_check_digit_is_refused(raw):
    with pytest.raises(InvalidAnswer, match="Enter a valid NHS number"):
        clean_nhs_number(raw)


@pytest.mark.parametrize("raw", ["0000000000", "1111111111", "9999999999"])
def test_repeated_digit_nhs_numbers_are_refused_though_the_checksum_passes(raw):
    with pytest.raises(InvalidAnswer, match="Enter a valid NHS number"):
        clean_nhs_number(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("943476591", "must be 10 digits"),
        ("94347659190", "must be 10 digits"),
        ("943476591A", "only numbers"),
    ],
)
def test_nhs_number_length_and_letters_have_specific_messages(raw, message):
    with pytest.raises(InvalidAnswer, match=message):
        clean_nhs_number(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("le19 2dr", "LE19 2DR"),
        (" LE19  2DR.", "LE19 2DR"),
        ("le192dr", "LE19 2DR"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("EC1A-1BB", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("GIR0AA", "GIR 0AA"),
        ("(m1 1ae)", "M1 1AE"),
    ],
)
def test_postcode_is_normalised_as_gov_uk_recommends(raw, expected):
    assert clean_postcode(raw) == expected


@pytest.mark.parametrize("raw", ["Q1 1AA", "N7 7CA", "LE19", "LE19 2D", "ABCDEFGH", "12345", ""])
def test_badly_formed_postcodes_are_refused(raw):
    with pytest.raises(InvalidAnswer, match="Enter a real postcode"):
        clean_postcode(raw)
