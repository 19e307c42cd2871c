-- The ML snapshot dates: the as-of date (snapshot 0, scoring) and ml_snapshot_count dates
-- before it, ml_snapshot_step_days apart.

{%- set step = var('ml_snapshot_step_days') | int %}

with

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

snapshot_numbers as (
    {{ retention.integer_series(0, var('ml_snapshot_count') | int, 'snapshot_number') }}
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
