"""Phone numbers normalised once and remembered in the warehouse between publishes."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from activation import ActivationConfig, publish
from activation.normalize import PHONENUMBERS_VERSION, PhoneBook, normalize_phone_e164
from activation.warehouse import PHONE_BOOK_TABLE, load_phone_book, save_phone_book

from .factories import customer, frame

NUMBERS = [
    ("+44 20 7031 3000", "GB"),
    ("020 7031 3000", "GB"),
    ("020 7031 3000", "gbr"),
    ("0044 20 7031 3000", None),
    ("(415) 555-2671", "US"),
    ("12345", "US"),  # invalid: the answer None is remembered too
]


def test_phone_book_answers_like_the_parser_and_learns_each_number_once():
    book = PhoneBook()
    answers = [book.e164(raw, country) for raw, country in NUMBERS]
    assert answers == [normalize_phone_e164(raw, country) for raw, country in NUMBERS]
    assert answers[0] == answers[1] == answers[2] == answers[3] == "+442070313000"
    assert answers[5] is None
    assert set(book.learned) == {PhoneBook.key(raw, country) for raw, country in NUMBERS}
    book.learned.clear()
    assert [book.e164(raw, country) for raw, country in NUMBERS] == answers
    assert book.learned == {}
    assert book.e164(None, "GB") is None and book.e164("  ", "GB") is None and book.learned == {}


def test_known_answers_are_used_without_parsing():
    # an answer on record is returned as it is (that is the point: no parsing)
    book = PhoneBook({("020 7031 3000", "GB"): "+449999999999"})
    assert book.e164("020 7031 3000", "GB") == "+449999999999"
    assert book.learned == {}


def test_warehouse_keeps_answers_of_this_phonenumbers_release_only(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    book = load_phone_book(con)
    assert book.known == {}
    for raw, country in NUMBERS:
        book.e164(raw, country)
    assert save_phone_book(con, book) == len(NUMBERS)
    con.execute(f"insert into {PHONE_BOOK_TABLE} values ('+1 202 555 0100', 'US', '+12025550100', '0.0.1')")

    again = load_phone_book(con)
    assert again.known == {PhoneBook.key(raw, country): normalize_phone_e164(raw, country) for raw, country in NUMBERS}
    assert save_phone_book(con, again) == 0
    versions = con.execute(f"select distinct phonenumbers_version from {PHONE_BOOK_TABLE}").fetchall()
    assert versions == [(PHONENUMBERS_VERSION,)]  # the old release's answer is gone
    assert con.execute(f"select count(*) from {PHONE_BOOK_TABLE}").fetchall() == [(len(NUMBERS),)]


@pytest.mark.parametrize("country", ["GB", None])
def test_publish_with_a_remembered_phone_book_writes_the_same_files(tmp_path, country):
    customers = frame(
        customer("a", phone="020 7031 3000", country=country or "GB"),
        customer("b", phone="+1 415 555 2671", country="US"),
        customer("c", phone="12345", country=country),
    )
    config = ActivationConfig(control_share=0.0)
    book = PhoneBook()
    first = publish(customers, date(2024, 5, 1), tmp_path / "first", config, "m", phones=book)
    assert len(book.learned) == 3
    remembered = PhoneBook(book.known)
    second = publish(customers, date(2024, 5, 1), tmp_path / "second", config, "m", phones=remembered)
    assert remembered.learned == {}
    assert [f["sha256"] for f in second.manifest["files"]] == [f["sha256"] for f in first.manifest["files"]]
    assert any(f["path"].endswith("meta.csv") and f["rows"] >= 2 for f in first.manifest["files"])


def test_phone_book_never_leaves_the_warehouse_as_parquet(tmp_path):
    from core.warehouse import export_schema_to_parquet

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    book = load_phone_book(con)
    book.e164("+44 20 7031 3000", "GB")
    save_phone_book(con, book)
    con.execute("create table activation.winback_effect as select 1 as audience")
    written = export_schema_to_parquet(con, "activation", tmp_path / "parquet")
    assert written == {"winback_effect": 1}
    assert [p.name for p in (tmp_path / "parquet").iterdir()] == ["winback_effect.parquet"]
