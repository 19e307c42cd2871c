"""Settings validation: one clear message per problem, naming the key and what is expected."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.settings import PROJECT_ROOT, SettingsError, load_settings


def write(tmp_path, text: str):
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    return path


def problems(tmp_path, text: str) -> list[str]:
    with pytest.raises(SettingsError) as error:
        load_settings(write(tmp_path, text))
    return error.value.problems


def test_the_shipped_settings_file_is_valid():
    settings = load_settings(PROJECT_ROOT / "settings.yaml")
    assert settings.churn.global_days == 90
    assert settings.sources["shopify"].mode == "demo"
    assert settings.sources["generic"].enabled is False


def test_every_problem_is_reported_once_with_its_key(tmp_path):
    found = problems(
        tmp_path,
        """
reporting_currency: dollars
warehouse: {threads: 0, memory_limit: lots}
sources: {shopify: {mode: ftp}, tiktok: {mode: demo}}
churn: {preset_days: 45, personal_interval_k: 0.5}
schedules: {timezone: Mars/Olympus, nightly_cron: "every night"}
colour: blue
""",
    )
    text = "\n".join(found)
    assert "reporting_currency: String should match pattern '^[A-Z]{3}$' (got 'dollars')" in text
    assert "warehouse.threads: Input should be greater than or equal to 1 (got 0)" in text
    assert "warehouse.memory_limit:" in text
    assert "sources.shopify.mode: Input should be 'demo', 'files' or 'api' (got 'ftp')" in text
    assert "churn.preset_days: Input should be 60, 90 or 180 (got 45)" in text
    assert "churn.personal_interval_k: Input should be greater than 1" in text
    assert "schedules.timezone: Value error, expected an IANA time zone" in text
    assert "schedules.nightly_cron: Value error, expected a 5-field cron expression" in text
    assert "colour: unknown key" in text
    assert len(found) == 9


def test_unknown_source_and_api_mode_where_there_is_no_api(tmp_path):
    assert any("unknown source(s) ['tiktok']" in p for p in problems(tmp_path, "sources: {tiktok: {mode: demo}}"))
    assert any("source 'web' has no api mode" in p for p in problems(tmp_path, "sources: {web: {mode: api}}"))


def test_generic_import_mapping_needs_the_required_columns(tmp_path):
    found = problems(tmp_path, "generic_import: {columns: {customer_id: cust, total: amt}}")
    assert any("unknown target column(s) ['total']" in p for p in found)


def test_not_yaml_and_missing_file(tmp_path):
    assert problems(tmp_path, "churn: [unclosed")[0].startswith("not valid YAML")
    with pytest.raises(SettingsError, match="file not found"):
        load_settings(tmp_path / "nope.yaml")


def test_validate_command_exits_non_zero_and_prints_each_problem(tmp_path):
    path = write(tmp_path, "churn: {preset_days: 45}\nwarehouse: {threads: -1}\n")
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "--settings", str(path), "validate"],
        capture_output=True, text=True, cwd=PROJECT_ROOT,
    )
    assert done.returncode == 2
    assert "churn.preset_days" in done.stderr and "warehouse.threads" in done.stderr
    ok = subprocess.run([sys.executable, "-m", "orchestration.cli", "validate"], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert ok.returncode == 0 and "settings OK" in ok.stdout


def test_a_preset_fills_in_what_the_file_leaves_out(tmp_path):
    settings = load_settings(write(tmp_path, "preset: durable_goods\nchurn: {wake_up_days: 120}\n"))
    assert settings.churn.global_days == 180
    assert settings.churn.category_days == {"consumable": 120, "durable": 365}
    assert settings.churn.wake_up_days == 120  # explicit value wins
    assert settings.model.horizon_days == 180
    marketplace = load_settings(write(tmp_path, "preset: marketplace_only\n"))
    assert [n for n, s in marketplace.sources.items() if not s.enabled] == ["shopify", "email", "web", "generic"]
    assert marketplace.sources["amazon"].enabled
    assert any("preset: Input should be" in p for p in problems(tmp_path, "preset: tiny_shop\n"))
