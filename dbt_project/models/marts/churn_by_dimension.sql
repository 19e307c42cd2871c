-- F16 churn rate by driver dimension: one row per dimension and value. Observations are the
-- evaluable purchases of int_order_churn_outcomes (placed more than the customer's churn
-- threshold before the as-of date): the churn rate of a value is the share of purchases
-- with that value after which the customer churned (no further order within the
-- threshold), e.g. "after an order delivered in more than 20 days, 65% of customers never
-- came back". For the customers who churned, the values describe their last order (last
-- product, returned last order, ...).
-- lift = rate / baseline (all evaluable purchases). Because churn after a first order is
-- far more common than after a fifth, a value seen mostly on repeat orders looks good
-- whatever it does; adjusted_lift compares the rate with the rate expected from the
-- value's own mix of lifecycle stages (indirect standardisation: the expected rate is the
-- mean over its purchases of the baseline rate of their stage). The 95% interval is the
-- Wilson score interval of the rate (z = var churn_confidence_z); lift intervals are that
-- interval over the baseline / expected rate. A value is significant when at least
-- min_profile_customers distinct customers are behind it and the whole interval lies above
-- the expected rate; findings are ranked by the lower end of the adjusted lift interval,
-- which weighs the size of the effect against the evidence behind it.

with

outcomes as {{ retention.not_materialized() }} (
    select * from {{ ref('int_order_churn_outcomes') }}
    where is_evaluable
),

baseline as (
    select
        count(*) as baseline_orders,
        sum(case when is_churn_event then 1 else 0 end) as baseline_churn_events,
        {{ retention.safe_divide('sum(case when is_churn_event then 1 else 0 end)', 'count(*)') }} as baseline_churn_rate
    from outcomes
),

stage_rates as (
    select
        lifecycle_stage,
        {{ retention.safe_divide('sum(case when is_churn_event then 1 else 0 end)', 'count(*)') }} as stage_churn_rate
    from outcomes
    group by lifecycle_stage
),

expected as (
    select
        outcomes.*,
        stage_rates.stage_churn_rate as expected_churn
    from outcomes
    inner join stage_rates
        on outcomes.lifecycle_stage = stage_rates.lifecycle_stage
),

unpivoted as (
    {%- for dimension in retention.churn_dimensions() %}
    select
        '{{ dimension }}' as dimension,
        cast({{ dimension }} as {{ retention.type_text() }}) as dimension_value,
        customer_id,
        is_churn_event,
        expected_churn
    from expected
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

grouped as (
    -- distinct customers by a two-level aggregation (value x customer, then value)
    select
        dimension,
        dimension_value,
        count(*) as customers,
        sum(orders) as orders,
        sum(churn_events) as churn_events,
        sum(expected_churn_events) as expected_churn_events
    from (
        select
            dimension,
            dimension_value,
            customer_id,
            count(*) as orders,
            sum(case when is_churn_event then 1 else 0 end) as churn_events,
            sum(expected_churn) as expected_churn_events
        from unpivoted
        group by dimension, dimension_value, customer_id
    ) as by_customer
    group by dimension, dimension_value
),

rated as (
    select
        grouped.dimension || '=' || grouped.dimension_value as dimension_value_id,
        grouped.dimension,
        grouped.dimension_value,
        grouped.orders,
        grouped.customers,
        grouped.churn_events,
        {{ retention.safe_divide('grouped.churn_events', 'grouped.orders') }} as churn_rate,
        baseline.baseline_orders,
        baseline.baseline_churn_rate,
        {{ retention.safe_divide('grouped.expected_churn_events', 'grouped.orders') }} as expected_churn_rate,
        {{ retention.wilson_lower('grouped.churn_events', 'grouped.orders') }} as churn_rate_ci_low,
        {{ retention.wilson_upper('grouped.churn_events', 'grouped.orders') }} as churn_rate_ci_high,
        grouped.customers >= {{ var('min_profile_customers') }} as has_min_support
    from grouped
    cross join baseline
),

flagged as (
    select
        *,
        has_min_support and churn_rate_ci_low > expected_churn_rate as is_significant
    from rated
),

final as (
    select
        dimension_value_id,
        dimension,
        dimension_value,
        orders,
        customers,
        churn_events,
        round(churn_rate, 4) as churn_rate,
        round(baseline_churn_rate, 4) as baseline_churn_rate,
        round({{ retention.safe_divide('churn_rate', 'baseline_churn_rate') }}, 3) as lift,
        round(churn_rate_ci_low, 4) as churn_rate_ci_low,
        round(churn_rate_ci_high, 4) as churn_rate_ci_high,
        round({{ retention.safe_divide('churn_rate_ci_low', 'baseline_churn_rate') }}, 3) as lift_ci_low,
        round({{ retention.safe_divide('churn_rate_ci_high', 'baseline_churn_rate') }}, 3) as lift_ci_high,
        round(expected_churn_rate, 4) as expected_churn_rate,
        round({{ retention.safe_divide('churn_rate', 'expected_churn_rate') }}, 3) as adjusted_lift,
        round({{ retention.safe_divide('churn_rate_ci_low', 'expected_churn_rate') }}, 3) as adjusted_lift_ci_low,
        round({{ retention.safe_divide('churn_rate_ci_high', 'expected_churn_rate') }}, 3) as adjusted_lift_ci_high,
        has_min_support,
        is_significant,
        case
            when is_significant
                then row_number() over (
                        partition by is_significant
                        order by round(churn_rate_ci_low / expected_churn_rate, 9) desc, orders desc, dimension_value_id asc
                    )
        end as finding_rank
    from flagged
)

select * from final
