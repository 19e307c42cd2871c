-- Every churn driver dimension partitions the same evaluable purchases: its values add up
-- to the baseline, and the baseline rate is the same everywhere.
with

by_dimension as (
    select
        dimension,
        sum(orders) as orders,
        sum(churn_events) as churn_events,
        min(baseline_churn_rate) as min_baseline,
        max(baseline_churn_rate) as max_baseline
    from {{ ref('churn_by_dimension') }}
    group by dimension
),

baseline as (
    select
        count(*) as orders,
        sum(case when is_churn_event then 1 else 0 end) as churn_events
    from {{ ref('int_order_churn_outcomes') }}
    where is_evaluable
)

select by_dimension.dimension
from by_dimension
cross join baseline
where by_dimension.orders <> baseline.orders
    or by_dimension.churn_events <> baseline.churn_events
    or by_dimension.min_baseline <> by_dimension.max_baseline
