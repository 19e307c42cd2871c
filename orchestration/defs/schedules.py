"""Nightly and weekly schedules, cron and time zone from the settings file."""

import dagster as dg

from core.settings import load_settings


@dg.definitions
def schedules() -> dg.Definitions:
    settings = load_settings().schedules
    return dg.Definitions(
        schedules=[
            dg.ScheduleDefinition(
                name="nightly_pipeline_schedule",
                job_name="nightly_pipeline",
                cron_schedule=settings.nightly_cron,
                execution_timezone=settings.timezone,
                default_status=dg.DefaultScheduleStatus.RUNNING,
            ),
            dg.ScheduleDefinition(
                name="weekly_report_schedule",
                job_name="weekly_report",
                cron_schedule=settings.weekly_cron,
                execution_timezone=settings.timezone,
                default_status=dg.DefaultScheduleStatus.RUNNING,
            ),
        ]
    )
