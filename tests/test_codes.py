"""The code lists stay in step with Primer's spec."""

from primer_nb.api.codes import COUNTRY_CODES, CURRENCY_CODES


def test_currency_codes_match_the_spec(spec):
    assert set(spec["components"]["schemas"]["Currency"]["enum"]) == CURRENCY_CODES


def test_country_codes_match_the_spec(spec):
    assert set(spec["components"]["schemas"]["CountryCodeEnum"]["enum"]) == COUNTRY_CODES
    assert "NO" in COUNTRY_CODES  # YAML 1.1 reads a bare NO as False; the spec quotes it
