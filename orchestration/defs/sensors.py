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


def failed_steps(context: dg.RunFailureSensorContext) -> list[tuple[str, str]]:
    steps = [
        (event.step_key or "(run)", event.event_specific_data.error.message.strip()[:4000])
        for event in context.get_step_failure_events()
    ]
    if not steps and context.failure_event.message:
        steps = [("(run)", context.failure_event.message)]
    return steps


@dg.run_failure_sensor(
    name="run_failure_email",
    monitor_all_code_locations=False,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Emails the data team (outbox when no SMTP) with the failed step, the error and a link to the run.",
)
def run_failure_email(context: dg.RunFailureSensorContext):
    import datetime as dt

    from reports.delivery import deliver
    from reports.render import RunFailureContext, render_run_failure

    settings = load_settings()
    run = context.dagster_run
    notice = RunFailureContext(
        job_name=run.job_name,
        run_id=run.run_id,
        failed_steps=failed_steps(context),
        run_url=f"{settings.ui_url.rstrip('/')}/runs/{run.run_id}",
        failed_at=dt.datetime.now(dt.UTC),
    )
    message = render_run_failure(notice, settings.reports.render)
    result = deliver(message, None, settings.delivery())
    context.log.info(f"failure email {result.status}: {result.eml_path}")
