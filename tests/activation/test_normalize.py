"""Normalisation + hashing against hand-computed vectors (AUDIENCES.md rules)."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd
import pytest

from activation.normalize import (
    GOOGLE_HEADER,
    META_HEADER,
    RelayMatcher,
    ads_consent_granted,
    as_bool,
    google_row,
    is_missing,
    map_rows,
    map_values,
    meta_row,
    normalize_city_meta,
    normalize_country,
    normalize_email,
    normalize_name_meta,
    normalize_phone_e164,
    normalize_phone_meta,
    normalize_state_meta,
    normalize_zip_google,
    normalize_zip_meta,
)

relay = RelayMatcher()


def h(text: str) -> str:
    # Expected values are computed here from hand-written normalised strings.
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(**kw) -> dict:
    base = {
        "customer_id": "c-1",
        "email": None,
        "phone": None,
        "first_name": None,
        "last_name": None,
        "city": None,
        "state": None,
        "zip": None,
        "country": None,
    }
    base.update(kw)
    return base


def test_headers_are_the_platforms_exact_names():
    assert ",".join(META_HEADER) == "email,phone,fn,ln,ct,st,zip,country,extern_id"
    assert ",".join(GOOGLE_HEADER) == "Email,Phone,First Name,Last Name,Country,Zip"


def test_email_trim_lowercase_hash_both_platforms():
    row = record(email="  John.Smith@Gmail.COM ")
    assert meta_row(row, relay=relay)["email"] == h("john.smith@gmail.com")
    assert google_row(row, relay=relay)["Email"] == h("john.smith@gmail.com")
    # Known value from Meta's own documentation example.
    assert h("mary@example.com") == "f1904cf1a9d73a55fa5de0ac823c4403ded71afd4c3248d00bdcd0866552bb79"
    assert meta_row(record(email="Mary@Example.com"), relay=relay)["email"] == h("mary@example.com")


@pytest.mark.parametrize(
    ("phone", "country"),
    [
        ("020 7031 3000", "GB"),
        ("+44 20 7031 3000", None),
        ("+44 20 7031 3000", "GB"),
        ("+44 (0)20-7031-3000", "US"),  # explicit country code beats the default region
        ("0044 20 7031 3000", "GB"),
    ],
)
def test_uk_phone_with_and_without_country_code(phone, country):
    row = record(phone=phone, country=country)
    assert meta_row(row, relay=relay)["phone"] == h("442070313000")
    assert google_row(row, relay=relay)["Phone"] == h("+442070313000")
    assert normalize_phone_meta(phone, country) == "442070313000"
    assert normalize_phone_e164(phone, country) == "+442070313000"


def test_us_phone_uses_customer_country_as_default_region():
    assert normalize_phone_meta("(415) 555-2671", "US") == "14155552671"
    assert google_row(record(phone="415.555.2671", country="US"), relay=relay)["Phone"] == h("+14155552671")


@pytest.mark.parametrize(
    ("phone", "country"),
    [("12345", "US"), ("020 7031 3000", None), ("call me", "GB"), ("", "GB"), (None, "GB")],
)
def test_invalid_phone_gives_empty_field_not_hash_of_garbage(phone, country):
    row = record(phone=phone, country=country, email="a@b.com")
    assert meta_row(row, relay=relay)["phone"] == ""
    assert google_row(row, relay=relay)["Phone"] == ""


def test_non_ascii_names_keep_utf8_letters():
    assert meta_row(record(first_name="Zoë", last_name="Müller"), relay=relay)["fn"] == h("zoë")
    assert meta_row(record(first_name="Zoë", last_name="Müller"), relay=relay)["ln"] == h("müller")
    assert meta_row(record(first_name="王"), relay=relay)["fn"] == h("王")
    # Decomposed input (e + combining diaeresis) hashes like the precomposed letter.
    assert meta_row(record(first_name="Zoe\u0308"), relay=relay)["fn"] == h("zoë")
    # Punctuation, spaces and digits go.
    assert normalize_name_meta(" O'Brien-Smith 3rd ") == "obriensmithrd"
    assert normalize_name_meta("...") is None
    google = google_row(record(first_name="  Zoë ", last_name="Van  der Berg"), relay=relay)
    assert google["First Name"] == h("zoë")
    assert google["Last Name"] == h("van der berg")


def test_location_keys_meta():
    row = record(city="New York", state="California", zip="94105-1234", country="US")
    values = meta_row(row, relay=relay)
    assert values["ct"] == h("newyork")
    assert values["st"] == h("ca")
    assert values["zip"] == h("94105")
    assert values["country"] == h("us")
    assert normalize_city_meta("München") == "munchen"
    assert normalize_city_meta("St. John's") == "stjohns"
    assert normalize_state_meta("CA", "US") == "ca"
    assert normalize_state_meta("Île-de-France", "FR") == "iledefrance"
    assert normalize_zip_meta("2134", "US") == "02134"  # leading zero lost upstream
    assert normalize_zip_meta("SW1A 1AA", "GB") == "sw1a1aa"


def test_google_country_and_zip_are_unhashed():
    values = google_row(record(zip="94105-1234", country="us"), relay=relay)
    assert values["Country"] == "US"
    assert values["Zip"] == "94105"
    assert normalize_zip_google("sw1a 1aa", "GB") == "SW1A 1AA"
    assert normalize_country("GBR") == "GB"
    assert normalize_country("UK") == "GB"
    assert normalize_country("XX") is None


def test_extern_id_plain_and_all_hashes_hex_lowercase():
    row = record(
        email="a@b.com",
        phone="+14155552671",
        first_name="A",
        last_name="B",
        city="X",
        state="NY",
        zip="10001",
        country="US",
    )
    values = meta_row(row, relay=relay)
    assert values["extern_id"] == "c-1"
    for key in META_HEADER[:-1]:
        assert re.fullmatch(r"[0-9a-f]{64}", values[key]), key


@pytest.mark.parametrize(
    "address",
    [
        "k3x9@marketplace.amazon.com",
        "  K3X9@Marketplace.Amazon.co.uk ",
        "abc@marketplace.amazon.de",
        "5f2e@relay.walmart.com",
        "buyer123@members.ebay.com",
        "x@members.ebay.de",
    ],
)
def test_relay_addresses_recognised_and_never_hashed(address):
    assert relay(address)
    row = record(email=address, phone="+14155552671", country="US")
    assert meta_row(row, relay=relay)["email"] == ""
    assert google_row(row, relay=relay)["Email"] == ""
    assert meta_row(row, relay=relay)["phone"] == h("14155552671")


def test_ordinary_addresses_are_not_relays():
    for address in ["amazon.fan@gmail.com", "a@walmart.com", "x@ebay.com", None, ""]:
        assert not relay(address)


def test_email_normalisation_rejects_non_addresses():
    assert normalize_email(" A B@x.com ") == "ab@x.com"
    assert normalize_email("not-an-email") is None
    assert normalize_email(float("nan")) is None


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["a", None, " ", "a", "=x", None], dtype="str"),
        pd.Series(["a", None, " ", "a"], dtype="string"),
        pd.Series([3, 4, 3]),
        pd.Series([1, None, 1], dtype="Int64"),
        pd.Series([True, False, True]),
        pd.Series([True, None], dtype="boolean"),
        pd.Series([0.0, -0.0, np.nan, 1.5]),
        pd.Series([1, 1.0, True, "1", None], dtype=object),
        pd.Series([], dtype="str"),
    ],
)
def test_map_values_is_func_of_every_value(values):
    # once per distinct value must give what value by value gives, missing values included
    for func in (repr, is_missing, as_bool):
        expected = [func(v) for v in values.to_numpy(dtype=object)]
        assert list(map_values(values, func)) == expected


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"a": pd.Series(["x", None, "x", "y", "x"], dtype="str"), "b": pd.Series(["US", "US", "DE", None, "US"], dtype="str")}),
        pd.DataFrame({"a": pd.Series([1, None, 1], dtype="Int64"), "b": pd.Series(["p", "q", "p"], dtype="string")}),
        pd.DataFrame({"a": pd.Series([0.0, -0.0, np.nan]), "b": pd.Series(["US", "US", "US"], dtype="str")}),
        pd.DataFrame({"a": pd.Series([], dtype="str"), "b": pd.Series([], dtype="str")}),
    ],
)
def test_map_rows_is_func_of_every_row(frame):
    # once per distinct combination must give what row by row gives, missing values included
    for func in (lambda a, b: repr((a, b)), lambda a, b: is_missing(a) or is_missing(b)):
        expected = [func(a, b) for a, b in zip(frame["a"].to_numpy(dtype=object), frame["b"].to_numpy(dtype=object), strict=True)]
        assert list(map_rows(frame, ["a", "b"], func)) == expected
        assert list(map_rows(frame, ["b"], repr)) == [repr(b) for b in frame["b"].to_numpy(dtype=object)]


@pytest.mark.parametrize(
    ("value", "granted"),
    [("granted", True), (" Granted ", True), ("denied", False), ("unknown", False), (None, False), (pd.NA, False),
     (True, True), ("yes", True), (False, False), ("", False)],
)
def test_ads_consent_granted(value, granted):
    assert ads_consent_granted(value) is granted
