"""The dbt project as Dagster assets: one asset per model, dbt tests as asset checks."""

import contextlib
import importlib.metadata
import json
import os
import shutil
import sys
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from core.settings import PROJECT_ROOT, Settings
from ml.pipeline import training_reason
from orchestration.defs.resources import DUCKDB_POOL, Warehouse

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class WarehouseDbt(DbtCliResource):
    """`DbtCliResource` without two start-up steps these assets never use: about 2.3 s of each
    dbt invocation, whatever the data size.

    - dagster-dbt asks `dbt --version` in a subprocess (a second Python start that imports
      dbt); the dbt it runs is this environment's dbt-core, whose version the package
      metadata gives at once.
    - It opens a dbt adapter in this process, used only to fetch row counts and column
      metadata (`.fetch_row_counts()`, `.fetch_column_metadata()`), which these assets do not
      call. Without the adapter the event stream is the same.

    Both override private dagster-dbt members (pinned in requirements.lock); should a release
    rename them, these overrides are simply not called and dbt runs as before.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def prepare_dbt_manifest() -> Path:
    """Run `dbt parse` so the code location has a manifest (setup runs it once; so does first import)."""
    WarehouseDbt(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE).cli(
        ["parse", "--quiet"], target_path=dbt_project.target_path
    ).wait()
    return dbt_project.manifest_path


def manifest_is_stale() -> bool:
    """True when the manifest is missing or older than any model, macro, seed or test file."""
    manifest = dbt_project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = ("dbt_project.yml", "models", "macros", "seeds", "tests")
    paths = [DBT_PROJECT_DIR / name for name in sources]
    files = [p for path in paths for p in ([path] if path.is_file() else path.rglob("*") if path.exists() else [])]
    return any(p.is_file() and p.stat().st_mtime > built for p in files)


# the asset definitions below are read from the manifest: keep it in step with the project
if manifest_is_stale():
    prepare_dbt_manifest()


class WarehouseTranslator(DagsterDbtTranslator):
    """Groups models by their folder (staging, intermediate, marts)."""

    def get_asset_spec(self, manifest, unique_id, project):
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id, {})
        fqn = node.get("fqn", [])
        if node.get("resource_type") in ("model", "seed", "snapshot") and len(fqn) > 2:
            spec = spec.replace_attributes(group_name=fqn[1])
        return spec


# dbt's own log file (dbt.log in each invocation's target folder) at info level: the lines
# Dagster shows (start and result of each model and test, errors, warnings). At debug level
# it also logs every SQL statement: about 5,400 JSON lines a nightly build, 1.4 s of its CPU
# at any data size (a sampling profile put 11% of a 10k-customer build in that logger). The
# SQL each node ran is in the target folder's run/ and compiled/ either way. Set
# DBT_LOG_LEVEL_FILE=debug in the environment to have the statements logged again.
DBT_LOG_LEVEL_FILE_DEFAULT = "info"


def dbt_environment(settings: Settings, *, training_snapshots: bool = True) -> dict[str, str]:
    """dbt reads these: the profile its warehouse settings (one setting feeds every reader and
    writer), dbt itself its file log level.

    ``training_snapshots``: build the feature mart's past snapshots (read only when the churn
    model trains); model int_snapshot_dates_generated reads it."""
    return {
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE") or DBT_LOG_LEVEL_FILE_DEFAULT,
        "RETENTION_ML_TRAINING_SNAPSHOTS": "true" if training_snapshots else "false",
        "DUCKDB_PATH": str(settings.duckdb_path),
        "DUCKDB_MEMORY_LIMIT": settings.warehouse.memory_limit,
        "DUCKDB_THREADS": str(settings.warehouse.threads),
        "DUCKDB_TEMP_DIR": str(settings.path(settings.warehouse.temp_directory)),
        "DBT_THREADS": "1",  # one model at a time: concurrent models share one DuckDB memory limit and spill
    }


@contextlib.contextmanager
def dbt_environment_set(settings: Settings, *, training_snapshots: bool = True) -> Iterator[None]:
    """`dbt_environment` in os.environ while a dbt invocation starts (dagster-dbt copies the
    process environment), then restored: one process may run pipelines on several warehouses."""
    values = dbt_environment(settings, training_snapshots=training_snapshots)
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class WarehouseBuildConfig(dg.Config):
    """Run config of the dbt build."""

    full_refresh: bool = False  # rebuild the incremental staging models from all raw data
    retrain: bool = False  # the churn model is retrained this run: build its training snapshots whatever the model's age


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseTranslator(),
    pool=DUCKDB_POOL,
)
def warehouse_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse, config: WarehouseBuildConfig
):
    """`dbt build` (models and their tests) with the settings passed as dbt vars.

    The nightly job builds every model but those tagged weekly, which the weekly job builds
    (see jobs.py); dagster-dbt selects the models of the job's assets.

    The large staging models are incremental: a nightly build reads only the raw rows loaded
    since the last build. `full_refresh` rebuilds them from all raw data
    (`retention run nightly_pipeline --full-refresh`).

    The past ML snapshots (five sixths of the feature mart) are only read when the churn model
    trains, so they are only built when it is due for retraining (`retrain`:
    `retention run nightly_pipeline --retrain`); other nights build the scoring snapshot."""
    settings = warehouse.load_settings()
    training = training_reason(settings, forced=config.retrain)
    if training:
        context.log.info(f"ML feature mart: training snapshots built, the churn model retrains ({training})")
    else:
        context.log.info("ML feature mart: only the scoring snapshot; the churn model in charge is not due for retraining")
    dbt_vars = settings.dbt_vars()
    # unit tests check the SQL, not the data: they run in the test suite, not every night
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars)]
    if config.full_refresh:
        context.log.info("full refresh: every incremental model is rebuilt from all raw data")
        args.append("--full-refresh")
    with dbt_environment_set(settings, training_snapshots=training is not None):
        invocation = dbt.cli(args, context=context)  # starts dbt with the environment above
    yield from invocation.stream()
    keep_parse_state(invocation.target_path, DBT_PROJECT_DIR / os.getenv("DBT_TARGET_PATH", "target"))


def keep_parse_state(build_target: Path, project_target: Path) -> None:
    """Leave this build's partial_parse.msgpack where dagster-dbt seeds the next build from.

    dagster-dbt gives every dbt invocation its own target folder and copies the project's
    partial_parse.msgpack into it, but never back; that file comes from the setup's
    `dbt parse`, with other vars and profile, so every night parsed the project from
    scratch (5.0 s against 2.2 s with a matching parse state). With this build's state, the
    next night with the same settings and vars re-parses only what changed (dbt compares
    vars, profile and files itself and parses everything when they differ).
    """
    state = Path(build_target) / "partial_parse.msgpack"
    if not state.exists():
        return
    project_target.mkdir(parents=True, exist_ok=True)
    temp = project_target / f".partial_parse.msgpack.{os.getpid()}.tmp"
    shutil.copyfile(state, temp)
    os.replace(temp, project_target / "partial_parse.msgpack")  # whole file or the old one, never half


@dg.definitions
def dbt_definitions() -> dg.Definitions:
    # a module with a Definitions object contributes only what that object holds
    return dg.Definitions(
        assets=[warehouse_models],
        resources={"dbt": WarehouseDbt(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)},
    )
