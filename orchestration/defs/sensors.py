"""Sensors: new files in the landing folder start the pipeline; a failed run emails the data team."""

import hashlib

import dagster as dg

from core.settings import load_settings
from ingest.landing import new_files


@dg.sensor(
    name="landing_folder_sensor",
    job_name="nightly_pipeline",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts ingest and everything downstream when files land in the landing folder (each file once).",
)
def landing_folder_sensor(context: dg.SensorEvaluationContext):
    settings = load_settings()
    sources = [name for name, source in settings.sources.items() if source.enabled and source.mode == "files"]
    landing_root = settings.path(settings.paths.landing_dir)
    changed, cursor = new_files(landing_root, sources, context.cursor)
    context.update_cursor(cursor)
    if not changed:
        return dg.SkipReason(f"no new files in {landing_root} for {', '.join(sources) or 'no files-mode source'}")
    run_key = hashlib.sha256(cursor.encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=run_key, tags={"landing_files": ", ".join(changed)[:1000]})
