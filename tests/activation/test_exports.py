"""Export files: headers, suppression, deltas, manifest and atomic publishing."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from activation import (
    ActivationConfig,
    ExportIntegrityError,
    exports,
    list_complete_exports,
    publish,
    read_previous_members,
    verify_export,
)
from activation.exports import atomic_write_csv

from .factories import customer, flat_reasons, frame, sha

D1 = date(2024, 5, 1)
D2 = date(2024, 5, 2)
NO_HOLDOUT = ActivationConfig(control_share=0.0)
RELAY_DOMAINS = ("marketplace.amazon", "relay.walmart.com", "members.ebay")


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.name != ".publish.lock"]


# --------------------------------------------------------------------------- suppression

SUPPRESSION_CASES = frame(
    customer("ok"),
    customer("opted_out", is_opted_out=True),
    customer("unsub_email", email_consent="unsubscribed"),
    customer("unsub_sms", sms_consent="unsubscribed"),
    customer("no_email_consent", email_consent="not_subscribed"),
    customer("unknown_consent", email_consent="unknown", ads_consent=None),
    customer("no_ads_consent", ads_consent=False),
    customer("amazon_phone", email="K3X9@Marketplace.Amazon.com", phone="+1 415 555 2671", country="US"),
    customer("walmart_nophone", email="5f2e@relay.walmart.com", phone=None),
    customer("ebay_nophone", email="buyer9@members.ebay.com", phone=None),
    customer("no_ids", email=None, phone=None),
    customer("bad_email", email="not-an-email", phone=None),
    customer("bad_phone_only", email=None, phone="12345"),
)
RELAY_EMAILS = ["k3x9@marketplace.amazon.com", "5f2e@relay.walmart.com", "buyer9@members.ebay.com"]


@pytest.fixture
def suppression_export(tmp_path):
    return publish(SUPPRESSION_CASES, D1, tmp_path, NO_HOLDOUT, "model-7")


def test_headers_are_exact(suppression_export):
    folder = suppression_export.export_dir / "at_risk_high_value"
    first = {p.name: p.read_text(encoding="utf-8").splitlines()[0] for p in folder.glob("*.csv")}
    assert first["meta.csv"] == "email,phone,fn,ln,ct,st,zip,country,extern_id"
    assert first["google.csv"] == "Email,Phone,First Name,Last Name,Country,Zip"
    assert first["email_list.csv"].startswith("customer_id,email,first_name,last_name,phone,")
    assert first["cs_tasks.csv"] == (
        "customer_id,name,value_tier,predicted_clv_12m,churn_probability,"
        "days_since_last_order,favourite_category,reasons,recommended_action,action_detail,"
        "action_reason,opening_line"
    )


def test_ads_consent_as_the_warehouse_states_it(tmp_path):
    """marts.dim_customers says 'granted' / 'denied' / 'unknown': only 'granted' reaches the ad files."""
    cases = frame(
        customer("granted", ads_consent="granted"),
        customer("denied", ads_consent="denied"),
        customer("unknown", ads_consent="unknown"),
    )
    result = publish(cases, D1, tmp_path, NO_HOLDOUT, "model-7")
    folder = result.export_dir / "at_risk_high_value"
    assert {r["extern_id"] for r in read_csv(folder / "meta.csv")} == {"granted"}
    assert read_csv(folder / "google.csv")[0]["Email"] == sha("granted@example.com")
    dest = result.manifest["audiences"]["at_risk_high_value"]["destinations"]
    assert dest["meta"]["suppressed"] == dest["google"]["suppressed"] == {"no_ads_consent": 2}


def test_every_suppression_kind(suppression_export):
    folder = suppression_export.export_dir / "at_risk_high_value"
    email_ids = {r["customer_id"] for r in read_csv(folder / "email_list.csv")}
    meta_ids = {r["extern_id"] for r in read_csv(folder / "meta.csv")}
    cs_ids = {r["customer_id"] for r in read_csv(folder / "cs_tasks.csv")}
    google_rows = read_csv(folder / "google.csv")

    assert email_ids == {"ok", "no_ads_consent"}  # email needs email consent, not ads
    assert meta_ids == {"ok", "no_email_consent", "amazon_phone"}
    assert cs_ids == {
        "ok",
        "no_email_consent",
        "unknown_consent",
        "no_ads_consent",
        "amazon_phone",
        "bad_phone_only",
    }
    # Google has no id column: the same people, recognised by their hashed identifiers.
    assert len(google_rows) == 3
    assert {r["Email"] for r in google_rows} == {
        sha("ok@example.com"),
        sha("no_email_consent@example.com"),
        "",
    }
    assert {r["Phone"] for r in google_rows} == {sha("+442070313000"), sha("+14155552671")}

    dest = suppression_export.manifest["audiences"]["at_risk_high_value"]["destinations"]
    assert dest["email_list"]["suppressed"] == {
        "opted_out": 1,
        "unsubscribed": 2,
        "relay_address": 3,
        "no_email_consent": 2,
        "missing_email": 2,
        "invalid_email": 1,
    }
    assert dest["meta"]["suppressed"] == {
        "opted_out": 1,
        "unsubscribed": 2,
        "no_ads_consent": 2,
        "relay_address": 2,
        "no_identifier": 3,
    }
    assert dest["google"]["suppressed"] == dest["meta"]["suppressed"]
    assert dest["cs_tasks"]["suppressed"] == {
        "opted_out": 1,
        "unsubscribed": 2,
        "relay_address": 2,
        "no_contact": 2,
    }
    for info in dest.values():
        assert info["rows"] + info["control_held_out"] + sum(info["suppressed"].values()) == len(SUPPRESSION_CASES)


def test_relay_addresses_and_plain_emails_never_leak(suppression_export):
    relay_hashes = {sha(e) for e in RELAY_EMAILS}
    files = all_files(suppression_export.export_dir)
    assert len(files) >= 25
    for path in files:
        text = path.read_text(encoding="utf-8").lower()
        for domain in RELAY_DOMAINS:
            assert domain not in text, f"relay domain in {path}"
        for digest in relay_hashes:
            assert digest not in text, f"hashed relay address in {path}"
        if path.name in {"meta.csv", "google.csv"}:
            assert "@" not in text, f"plain email in hashed file {path}"
            assert "example.com" not in text
    # The amazon customer stays reachable on ads by phone, with an empty email field.
    meta = {r["extern_id"]: r for r in read_csv(suppression_export.export_dir / "at_risk_high_value" / "meta.csv")}
    assert meta["amazon_phone"]["email"] == ""
    assert meta["amazon_phone"]["phone"] == sha("14155552671")
    # reachable by phone, so the CS team gets the task (the contact itself stays in the warehouse)
    cs = {r["customer_id"]: r for r in read_csv(suppression_export.export_dir / "at_risk_high_value" / "cs_tasks.csv")}
    assert "amazon_phone" in cs


def test_opted_out_customer_in_no_file_of_any_audience(tmp_path):
    customers = frame(
        customer("loyal_optout", risk_band="low", value_tier="high", is_opted_out=True),
        customer("declining_unsub", is_frequency_declining=True, email_consent="unsubscribed"),
        customer("fine", risk_band="low", value_tier="high"),
    )
    result = publish(customers, D1, tmp_path, NO_HOLDOUT, "m")
    text = "\n".join(p.read_text(encoding="utf-8") for p in all_files(result.export_dir))
    assert "fine" in text
    for cid in ("loyal_optout", "declining_unsub"):
        assert cid not in text
        assert sha(f"{cid}@example.com") not in text
    assert set(result.membership["customer_id"]) == {"fine"}


def test_email_list_and_cs_tasks_content(tmp_path):
    customers = frame(
        customer(
            "c1",
            email="  Zoe@Example.COM ",
            first_name="Zoë",
            last_name="=cmd|' /C calc'!A0",
            phone="020 7031 3000",
            reasons=[
                {"feature": "open_tickets", "cause": "service", "detail": "2 open tickets"},
                {"feature": "delivery_days", "cause": "logistics", "detail": "24-day delivery"},
            ],
        ),
        customer("c2", sms_consent="not_subscribed", days_since_last_order=120),
    )
    result = publish(customers, D1, tmp_path, NO_HOLDOUT, "m")
    folder = result.export_dir / "at_risk_high_value"
    email = {r["customer_id"]: r for r in read_csv(folder / "email_list.csv")}
    assert email["c1"]["email"] == "zoe@example.com"
    assert email["c1"]["phone"] == "+442070313000"  # sms consent -> phone included
    assert email["c2"]["phone"] == ""
    assert email["c1"]["last_name"].startswith("'=")  # spreadsheet formula defused
    assert email["c1"]["action"] == "personal_contact"
    assert email["c2"]["action"] == "free_shipping_or_strong_discount"
    cs = {r["customer_id"]: r for r in read_csv(folder / "cs_tasks.csv")}
    # emails and phones leave the warehouse in clear text only in the email-tool list
    cs_text = (folder / "cs_tasks.csv").read_text(encoding="utf-8")
    assert "@" not in cs_text and "7031" not in cs_text and "example.com" not in cs_text
    assert cs["c1"]["name"] == "Zoë =cmd|' /C calc'!A0"  # starts with a letter: nothing to defuse
    assert cs["c1"]["reasons"] == "service: 2 open tickets | logistics: 24-day delivery"
    assert cs["c1"]["recommended_action"] == "personal_contact"
    assert cs["c1"]["opening_line"].startswith("Hi Zoë, I'm reaching out personally")
    assert cs["c2"]["opening_line"].endswith("offer you 20% discount on your next order.")
    assert cs["c1"]["predicted_clv_12m"] == "420.5"
    # Only the high-value at-risk audience has a CS task list.
    assert not (result.export_dir / "frequency_declining" / "cs_tasks.csv").exists()


# --------------------------------------------------------------------------- manifest


def test_manifest_lists_every_file_with_checksums(tmp_path):
    result = publish(frame(customer("a"), customer("b")), D1, tmp_path, None, "model-42")
    manifest = json.loads((result.export_dir / "manifest.json").read_text())
    assert manifest == result.manifest
    assert manifest["as_of"] == "2024-05-01"
    assert manifest["model_version"] == "model-42"
    assert manifest["control"] == {"share": 0.1}
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(result.export_dir).as_posix() for p in all_files(result.export_dir) if p.name != "manifest.json"}
    assert listed == on_disk
    for entry in manifest["files"]:
        data = (result.export_dir / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
        assert entry["rows"] == len(data.decode().splitlines()) - 1
    aud = manifest["audiences"]["at_risk_high_value"]
    assert aud["destinations"]["meta"]["rows"] == aud["treated"]
    assert [w.split(":")[0] for w in aud["warnings"]] == ["meta", "google"]
    assert "< 100" in aud["warnings"][0]
    verify_export(result.export_dir)


def test_same_input_gives_identical_files(tmp_path):
    customers = frame(*(customer(f"c{i}") for i in range(20)))
    first = publish(customers, D1, tmp_path / "a", None, "m").manifest["files"]
    second = publish(customers.sample(frac=1, random_state=3), D1, tmp_path / "b", None, "m")
    assert first == second.manifest["files"]


def test_flat_reason_columns_give_the_same_files_as_lists(tmp_path):
    two = [
        {"feature": "open_tickets", "cause": "service", "detail": "2 open tickets"},
        {"feature": "delivery_days", "cause": "logistics", "detail": "24-day delivery"},
    ]
    customers = frame(
        customer("c1", reasons=two),
        customer("c2", reasons=[]),
        customer("c3"),
        customer("c4", risk_band="low", segment="Champions", days_since_last_order=5),  # in no audience
    )
    as_lists = publish(customers, D1, tmp_path / "a", NO_HOLDOUT, "m")
    as_flat = publish(flat_reasons(customers), D1, tmp_path / "b", NO_HOLDOUT, "m")
    assert as_flat.manifest["files"] == as_lists.manifest["files"]
    assert as_flat.manifest["customers_scored"] == 4
    cs = {r["customer_id"]: r for r in read_csv(as_flat.export_dir / "at_risk_high_value" / "cs_tasks.csv")}
    assert cs["c1"]["reasons"] == "service: 2 open tickets | logistics: 24-day delivery"
    assert cs["c3"]["reasons"] == "price: buys on sale" and "c4" not in cs
    with pytest.raises(ValueError, match="reasons"):
        publish(flat_reasons(customers).drop(columns=["reason_1_cause"]), D1, tmp_path / "c", NO_HOLDOUT, "m")


def test_folder_without_manifest_is_incomplete(tmp_path):
    (tmp_path / "2024-05-01" / "x").mkdir(parents=True)
    (tmp_path / "2024-05-01" / "x" / "meta.csv").write_text("email\n")
    assert list_complete_exports(tmp_path) == []
    with pytest.raises(ExportIntegrityError, match="incomplete"):
        verify_export(tmp_path / "2024-05-01")


def test_tampered_file_fails_verification(tmp_path):
    result = publish(frame(customer("a")), D1, tmp_path, None, "m")
    path = result.export_dir / "at_risk_high_value" / "meta.csv"
    path.write_text(path.read_text() + "x\n")
    with pytest.raises(ExportIntegrityError, match="checksum"):
        verify_export(result.export_dir)


# --------------------------------------------------------------------------- deltas


def test_deltas_across_two_runs(tmp_path):
    run1 = publish(frame(customer("a"), customer("b"), customer("c")), D1, tmp_path, NO_HOLDOUT, "m")
    assert run1.manifest["audiences"]["at_risk_high_value"]["delta"] == {
        "file": "at_risk_high_value/delta.csv",
        "previous_available": False,
        "added": 3,
        "removed": 0,
    }
    day2 = frame(customer("b"), customer("c"), customer("d"), customer("a", risk_band="low"))
    from_disk = read_previous_members(tmp_path, before=D2)
    assert set(from_disk["customer_id"]) == {"a", "b", "c"}
    run2 = publish(day2, D2, tmp_path, NO_HOLDOUT, "m", previous_members=from_disk)
    high = run2.deltas[run2.deltas["audience"] == "at_risk_high_value"]
    assert set(zip(high["customer_id"], high["change"], strict=True)) == {
        ("d", "added"),
        ("a", "removed"),
    }
    assert read_csv(run2.export_dir / "at_risk_high_value" / "delta.csv") == [
        {"customer_id": "d", "change": "added"},
        {"customer_id": "a", "change": "removed"},
    ]
    # "a" is now high value + low risk: it joined the loyalty list.
    loyal = run2.deltas[run2.deltas["audience"] == "high_value_loyal"]
    assert list(loyal["customer_id"]) == ["a"] and list(loyal["change"]) == ["added"]
    # The caller's own membership frame gives the same delta as the files on disk.
    run2b = publish(day2, D2, tmp_path, NO_HOLDOUT, "m", previous_members=run1.membership)
    pd.testing.assert_frame_equal(run2b.deltas, run2.deltas)
    # Re-publishing day 2 still diffs against day 1, not against itself.
    again = read_previous_members(tmp_path, before=D2)
    assert set(again["customer_id"]) == {"a", "b", "c"}


def test_control_members_are_not_in_deltas(tmp_path):
    customers = frame(*(customer(f"c{i:03d}") for i in range(200)))
    run1 = publish(customers, D1, tmp_path, None, "m")
    run2 = publish(customers, D2, tmp_path, None, "m", previous_members=run1.membership)
    assert (run1.membership["group"] == "control").sum() > 5
    assert run2.deltas.empty  # same people, same stable groups: nothing changes


# --------------------------------------------------------------------------- atomicity


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


def _crashing_writer(monkeypatch, after_rows: int, target: str, seen: list):
    """Make the writer of ``target`` raise after writing some rows to its temp file."""
    original = exports.atomic_write_csv
    monkeypatch.setattr(exports, "_CHUNK_ROWS", 1)  # flush every row to disk

    def writer(path, header, rows, **kwargs):
        if path.name != target:
            return original(path, header, rows, **kwargs)

        def exploding():
            for i, row in enumerate(rows):
                if i == after_rows:
                    partial = list(path.parent.glob(f".{target}.*.tmp"))
                    seen.append({p.name: p.stat().st_size for p in partial})
                    raise OSError("disk on fire")
                yield row

        return original(path, header, exploding(), **kwargs)

    monkeypatch.setattr(exports, "atomic_write_csv", writer)


def test_crash_mid_write_keeps_previous_export(tmp_path, monkeypatch):
    good = publish(frame(*(customer(f"c{i}") for i in range(10))), D1, tmp_path, None, "v1")
    before = _snapshot(good.export_dir)
    seen: list = []
    _crashing_writer(monkeypatch, after_rows=3, target="google.csv", seen=seen)
    with pytest.raises(OSError, match="disk on fire"):
        publish(frame(*(customer(f"n{i}") for i in range(10))), D1, tmp_path, None, "v2")
    # The crash really happened after partial output.
    assert seen and all(size > 0 for size in seen[0].values())
    assert _snapshot(tmp_path / "2024-05-01") == before
    assert verify_export(tmp_path / "2024-05-01")["model_version"] == "v1"
    leftovers = [p for p in tmp_path.iterdir() if p.name not in {"2024-05-01", ".publish.lock"}]
    assert leftovers == []
    assert not list(tmp_path.rglob("*.tmp"))


def test_hard_kill_leaves_no_half_export_with_manifest(tmp_path, monkeypatch):
    publish(frame(customer("a")), D1, tmp_path, NO_HOLDOUT, "v1")
    monkeypatch.setattr(exports, "_cleanup_staging", lambda staging: None)  # process killed
    seen: list = []
    _crashing_writer(monkeypatch, after_rows=0, target="cs_tasks.csv", seen=seen)
    with pytest.raises(OSError):
        publish(frame(customer("b")), D2, tmp_path, None, "v2")
    staging = [p for p in tmp_path.iterdir() if p.name.startswith(".staging-")]
    assert len(staging) == 1
    assert not (staging[0] / "manifest.json").exists()
    assert not (tmp_path / "2024-05-02").exists()
    assert [d for d, _ in list_complete_exports(tmp_path)] == [D1]
    assert set(read_previous_members(tmp_path, before=date(2024, 6, 1))["customer_id"]) == {"a"}
    monkeypatch.undo()
    publish(frame(customer("b")), D2, tmp_path, None, "v2")  # next run cleans up
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".staging-")]
    assert [d for d, _ in list_complete_exports(tmp_path)] == [D1, D2]


def test_crash_between_renames_is_recovered(tmp_path):
    good = publish(frame(customer("a")), D1, tmp_path, NO_HOLDOUT, "v1")
    before = _snapshot(good.export_dir)
    # Simulate a crash right after the old folder was renamed aside.
    os.rename(good.export_dir, tmp_path / ".replaced-2024-05-01-deadbeef")
    assert [d for d, _ in list_complete_exports(tmp_path)] == [D1]
    assert set(read_previous_members(tmp_path, before=D2)["customer_id"]) == {"a"}
    publish(frame(customer("b")), D2, tmp_path, None, "v2")
    assert _snapshot(tmp_path / "2024-05-01") == before
    assert not list(tmp_path.glob(".replaced-*"))


def test_republish_same_day_replaces_folder(tmp_path):
    publish(frame(customer("a")), D1, tmp_path, NO_HOLDOUT, "v1")
    second = publish(frame(customer("b")), D1, tmp_path, NO_HOLDOUT, "v2")
    assert verify_export(second.export_dir)["model_version"] == "v2"
    ids = {r["customer_id"] for r in read_csv(second.export_dir / "at_risk_high_value" / "email_list.csv")}
    assert ids == {"b"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".publish.lock", "2024-05-01"]


def test_atomic_write_csv_leaves_nothing_on_failure(tmp_path):
    def rows():
        yield ["a"]
        raise ValueError("boom")

    with pytest.raises(ValueError):
        atomic_write_csv(tmp_path / "x.csv", ["h"], rows())
    assert list(tmp_path.iterdir()) == []
    info = atomic_write_csv(tmp_path / "x.csv", ["h"], [["a"], [None], ["b,c"]])
    assert (tmp_path / "x.csv").read_text() == 'h\na\n""\n"b,c"\n'
    assert info.rows == 3


def test_hashed_files_match_the_row_by_row_reference(tmp_path):
    """Emails and phones are hashed once per customer for all files of a publish: every Meta
    and Google row is what meta_row / google_row give for that customer."""
    from activation.normalize import PhoneBook, RelayMatcher, google_row, meta_row

    odd = [
        customer("plain"),
        customer("spaces_case", email="  Mary.Smith @Example.COM ", phone="020 7031 3000"),
        customer("relay_with_phone", email="K3X9@marketplace.amazon.de", phone="+49 30 901820", country="DE"),
        customer("bad_email", email="not-an-email", phone="415.555.2671", country="US"),
        customer("no_email", email=None, phone="(415) 555-2672", country="US"),
        customer("no_phone", phone=None),
        customer("bad_phone", phone="12345"),
        customer("nan_phone", phone=float("nan")),
        customer("unicode", email="zoë@exämple.de", first_name="Zoë", city="München", country="DE", phone="030 901820"),
        customer("second_audience", days_since_last_order=120, risk_band="low"),  # high value, low risk: loyalty list too
    ]
    customers = frame(*odd)
    result = publish(customers, D1, tmp_path, NO_HOLDOUT, "m")
    relay = RelayMatcher(ActivationConfig().relay_email_patterns)
    by_id = {row["customer_id"]: row for row in odd}
    meta_files = [f for f in sorted(result.export_dir.glob("*/meta.csv")) if read_csv(f)]
    assert len(meta_files) >= 2  # more than one audience with rows, so hashes are reused across files
    checked = 0
    for meta_file in meta_files:
        meta = read_csv(meta_file)
        google = read_csv(meta_file.with_name("google.csv"))
        assert len(meta) == len(google)
        for meta_line, google_line in zip(meta, google, strict=True):  # both in customer_id order
            record = by_id[meta_line["extern_id"]]
            assert meta_line == meta_row(record, relay=relay, e164=PhoneBook().e164)
            assert google_line == google_row(record, relay=relay, e164=PhoneBook().e164)
            checked += 1
    hashed_ids = {line["extern_id"] for f in meta_files for line in read_csv(f)}
    assert {"spaces_case", "bad_email", "no_email", "unicode", "relay_with_phone"} <= hashed_ids
    assert checked > len(hashed_ids)  # some customers are in two audiences
