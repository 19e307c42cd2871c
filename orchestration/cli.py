"""`retention` command: prepare, validate settings, run the demo pipeline, run for past dates."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from core.settings import PROJECT_ROOT, SettingsError, load_settings


def _use_project_instance() -> None:
    """Dagster keeps run history under DAGSTER_HOME (default: this project, whose dagster.yaml
    names storage folders relative to it)."""
    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    os.chdir(os.environ["DAGSTER_HOME"])
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.settings)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"settings OK: {args.settings or os.environ.get('RETENTION_SETTINGS') or 'settings.yaml'}")
    print(f"  warehouse: {settings.duckdb_path}")
    modes = {}
    for name, source in settings.sources.items():
        if source.enabled:
            modes.setdefault(source.mode, []).append(name)
    for mode, names in sorted(modes.items()):
        print(f"  {mode}: {', '.join(names)}")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    """Parse the dbt project so the code location has a manifest (done once after install)."""
    _use_project_instance()
    from orchestration.defs.dbt import prepare_dbt_manifest

    path = prepare_dbt_manifest()
    print(f"dbt manifest ready: {path}")
    return 0


def run_config_for(job, *, full_refresh: bool = False, retrain: bool = False) -> dict:
    """Run config for the --full-refresh and --retrain flags, for the steps the job has."""
    ops = {}
    if full_refresh and job.graph.has_node_named("warehouse_models"):
        ops["warehouse_models"] = {"config": {"full_refresh": True}}
    if retrain and job.graph.has_node_named("warehouse_models"):
        # the training snapshots of the feature mart are only built on nights the model trains
        ops.setdefault("warehouse_models", {"config": {}})["config"]["retrain"] = True
    if retrain and job.graph.has_node_named("churn_model"):
        ops["churn_model"] = {"config": {"force_retrain": True}}
    return {"ops": ops} if ops else {}


def cmd_run(args: argparse.Namespace) -> int:
    """Run a job in this process (fixed costs dominate small runs), recorded in the Dagster instance."""
    if args.settings:
        os.environ["RETENTION_SETTINGS"] = str(Path(args.settings).resolve())
    try:
        load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    _use_project_instance()
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.summary import print_summary

    started = time.monotonic()
    definitions = defs()
    with dg.DagsterInstance.get() as instance:
        for name in args.jobs:
            job = definitions.resolve_job_def(name)
            run_config = run_config_for(job, full_refresh=args.full_refresh, retrain=args.retrain)
            result = job.execute_in_process(instance=instance, run_config=run_config, raise_on_error=False)
            if not result.success:
                break
    print_summary(result, time.monotonic() - started)
    return 0 if result.success else 1


def cmd_backfill(args: argparse.Namespace) -> int:
    """Rebuild the warehouse views for every date in a range, one run per date."""
    import datetime as dt

    if args.settings:
        os.environ["RETENTION_SETTINGS"] = str(Path(args.settings).resolve())
    _use_project_instance()
    import dagster as dg

    from orchestration.definitions import defs

    start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    if end < start:
        print(f"--to {end} is before --from {start}", file=sys.stderr)
        return 2
    job = defs().resolve_job_def("rebuild_history")
    failed = []
    with dg.DagsterInstance.get() as instance:
        day = start
        while day <= end:
            result = job.execute_in_process(instance=instance, partition_key=day.isoformat(), raise_on_error=False)
            print(f"{day}: {'rebuilt in schemas asof_' + day.strftime('%Y%m%d') + '_*' if result.success else 'FAILED'}")
            if not result.success:
                failed.append(day)
            day += dt.timedelta(days=1)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="retention", description=__doc__)
    parser.add_argument("--settings", help="settings file (default: RETENTION_SETTINGS or ./settings.yaml)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("validate", help="validate the settings file without running anything").set_defaults(func=cmd_validate)
    commands.add_parser("prepare", help="parse the dbt project (manifest for the code location)").set_defaults(func=cmd_prepare)
    demo = commands.add_parser("demo", help="run the whole nightly pipeline and print where the results are")
    demo.set_defaults(func=cmd_run, jobs=["nightly_pipeline", "weekly_report"], full_refresh=False, retrain=False)
    run = commands.add_parser("run", help="run jobs by name in this process, in order")
    run.add_argument("jobs", nargs="+", metavar="job")
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental warehouse models from all raw data (default: only what arrived since the last run)",
    )
    run.add_argument(
        "--retrain",
        action="store_true",
        help="train a new churn model even if the one in charge is younger than model.retrain_every_days",
    )
    run.set_defaults(func=cmd_run)
    backfill = commands.add_parser("backfill", help="rebuild the warehouse views as of each past date in a range")
    backfill.add_argument("--from", dest="start", required=True, help="first as-of date, YYYY-MM-DD")
    backfill.add_argument("--to", dest="end", required=True, help="last as-of date, YYYY-MM-DD")
    backfill.set_defaults(func=cmd_backfill)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
