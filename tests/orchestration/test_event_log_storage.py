"""The instance of dagster.yaml: its event log keeps connections open and loses nothing.

Runs go through a real DagsterInstance made from the project's dagster.yaml; a second instance
on the same folder reads and watches them, as the UI's process does."""

import threading

import dagster as dg
import pytest

from core.settings import PROJECT_ROOT
from orchestration.event_log_storage import MAX_OPEN_DATABASES, OpenConnectionSqliteEventLogStorage


@dg.asset
def numbers(context: dg.AssetExecutionContext) -> list[int]:
    context.log.info("counting to three")
    return [1, 2, 3]


@dg.asset_check(asset=numbers)
def numbers_are_positive(numbers: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=all(n > 0 for n in numbers))


@pytest.fixture
def home(tmp_path, monkeypatch):
    (tmp_path / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text())
    monkeypatch.chdir(tmp_path)  # dagster.yaml names storage folders relative to DAGSTER_HOME
    return tmp_path


def test_runs_are_stored_and_read_back_from_another_instance(home):
    with dg.DagsterInstance.from_config(str(home)) as writer:
        assert isinstance(writer.event_log_storage, OpenConnectionSqliteEventLogStorage)
        assert writer.event_log_storage.supports_global_concurrency_limits  # the duckdb pool needs it
        run_ids = []
        for _ in range(MAX_OPEN_DATABASES + 2):  # more run databases than connections kept open
            result = dg.materialize([numbers, numbers_are_positive], instance=writer)
            assert result.success
            run_ids.append(result.run_id)
        written = {run_id: len(writer.all_logs(run_id)) for run_id in run_ids}

    with dg.DagsterInstance.from_config(str(home)) as reader:
        for run_id in run_ids:
            logs = reader.all_logs(run_id)
            assert len(logs) == written[run_id] > 10
            assert any(entry.user_message == "counting to three" for entry in logs)
            assert reader.get_run_record_by_id(run_id).dagster_run.status == dg.DagsterRunStatus.SUCCESS
        # the cross-run index: the latest materialization and check evaluation of the asset
        latest = reader.get_latest_materialization_event(dg.AssetKey("numbers"))
        assert latest.run_id == run_ids[-1]
        check_key = dg.AssetCheckKey(dg.AssetKey("numbers"), "numbers_are_positive")
        executions = reader.event_log_storage.get_asset_check_execution_history(check_key, limit=100)
        assert sorted(e.run_id for e in executions) == sorted(run_ids)


def test_another_process_watching_a_run_sees_new_events(home):
    """The UI's live log view watches the run's database file: each commit must reach it."""
    with dg.DagsterInstance.from_config(str(home)) as writer, dg.DagsterInstance.from_config(str(home)) as watcher:
        result = dg.materialize([numbers], instance=writer)
        run = writer.get_run_by_id(result.run_id)
        cursor = str(writer.get_records_for_run(run.run_id).cursor)
        seen: list[str] = []
        arrived = threading.Event()

        def on_event(entry, _cursor):
            seen.append(entry.message)
            if entry.message == "a late message":
                arrived.set()

        watcher.watch_event_logs(run.run_id, cursor, on_event)
        writer.report_engine_event("a late message", run)
        assert arrived.wait(timeout=20), f"the watcher saw {seen}"
        watcher.end_watch_event_logs(run.run_id, on_event)
