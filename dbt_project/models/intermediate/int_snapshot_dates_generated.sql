-- The ML snapshot dates: the as-of date (snapshot 0, scoring) and ml_snapshot_count dates
-- before it, ml_snapshot_step_days apart (training and backtest). With the environment variable
-- RETENTION_ML_TRAINING_SNAPSHOTS=false only the as-of date: a nightly run that scores but does
-- not retrain.

{%- set step = var('ml_snapshot_step_days') | int %}
{%- set training = retention.ml_training_snapshots(env_var('RETENTION_ML_TRAINING_SNAPSHOTS', 'true')) %}
{%- set past_snapshots = var('ml_snapshot_count') | int if training else 0 %}

with

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

snapshot_numbers as (
    {{ retention.integer_series(0, past_snapshots, 'snapshot_number') }}
),

final as (
    select
        snapshot_numbers.snapshot_number,
        {{ retention.add_days('as_of.as_of_date', '-' ~ step ~ ' * snapshot_numbers.snapshot_number') }} as snapshot_date,
        as_of.as_of_date
    from snapshot_numbers
    cross join as_of
)

select * from final
