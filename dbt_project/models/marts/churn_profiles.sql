-- F16 churn profiles: combinations of two and three driver dimensions (var
-- profile_dimensions) such as "region=Europe & delivery_time_bucket=over_20_days &
-- platform=ebay", over the evaluable purchases of int_order_churn_outcomes (see
-- churn_by_dimension), kept when at least min_profile_customers distinct customers
-- (approximate count) are behind the combination. Lifts as in churn_by_dimension (crude and adjusted for the
-- lifecycle-stage mix). Ranked by the lower end of the adjusted lift interval (size and
-- lift together), with the plain adjusted-lift rank beside it.

{%- set dimensions = var('profile_dimensions') %}
{%- set combinations = [] %}
{%- for first in range(dimensions | length) %}
{%- for second in range(first + 1, dimensions | length) %}
{%- do combinations.append([dimensions[first], dimensions[second]]) %}
{%- for third in range(second + 1, dimensions | length) %}
{%- do combinations.append([dimensions[first], dimensions[second], dimensions[third]]) %}
{%- endfor %}
{%- endfor %}
{%- endfor %}

with

outcomes as {{ retention.not_materialized() }} (
    select * from {{ ref('int_order_churn_outcomes') }}
    where is_evaluable
),

baseline as (
    select
        {{ retention.safe_divide('sum(case when is_churn_event then 1 else 0 end)', 'count(*)') }} as baseline_churn_rate
    from outcomes
),

stage_rates as (
    select
        lifecycle_stage as stage,
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
        on outcomes.lifecycle_stage = stage_rates.stage
),

combined as (
    -- one aggregation per combination; distinct customers are counted approximately
    -- (HyperLogLog, about 2% error) because exact distinct counts over hundreds of
    -- combinations need memory in proportion to the data, this in proportion to the groups
    {%- for combination in combinations %}
    select
        {{ combination | length }} as dimension_count,
        '{{ combination[0] }}' as dimension_1,
        cast({{ combination[0] }} as {{ retention.type_text() }}) as value_1,
        '{{ combination[1] }}' as dimension_2,
        cast({{ combination[1] }} as {{ retention.type_text() }}) as value_2,
        {% if combination | length == 3 -%}
        '{{ combination[2] }}' as dimension_3,
        cast({{ combination[2] }} as {{ retention.type_text() }}) as value_3,
        {%- else -%}
        cast(null as {{ retention.type_text() }}) as dimension_3,
        cast(null as {{ retention.type_text() }}) as value_3,
        {%- endif %}
        count(*) as orders,
        {{ retention.approx_distinct_count('customer_id') }} as customers,
        sum(case when is_churn_event then 1 else 0 end) as churn_events,
        sum(expected_churn) as expected_churn_events
    from expected
    group by {{ combination | join(', ') }}
    having {{ retention.approx_distinct_count('customer_id') }} >= {{ var('min_profile_customers') }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

rated as (
    select
        combined.*,
        {{ retention.safe_divide('combined.churn_events', 'combined.orders') }} as churn_rate,
        baseline.baseline_churn_rate,
        {{ retention.safe_divide('combined.expected_churn_events', 'combined.orders') }} as expected_churn_rate,
        {{ retention.wilson_lower('combined.churn_events', 'combined.orders') }} as churn_rate_ci_low,
        {{ retention.wilson_upper('combined.churn_events', 'combined.orders') }} as churn_rate_ci_high
    from combined
    cross join baseline
),

final as (
    select
        dimension_1 || '=' || value_1 || ' & ' || dimension_2 || '=' || value_2
        || coalesce(' & ' || dimension_3 || '=' || value_3, '') as profile_id,
        dimension_count,
        dimension_1,
        value_1,
        dimension_2,
        value_2,
        dimension_3,
        value_3,
        orders,
        customers,
        churn_events,
        round(churn_rate, 4) as churn_rate,
        round(baseline_churn_rate, 4) as baseline_churn_rate,
        round({{ retention.safe_divide('churn_rate', 'baseline_churn_rate') }}, 3) as lift,
        round(churn_rate_ci_low, 4) as churn_rate_ci_low,
        round(churn_rate_ci_high, 4) as churn_rate_ci_high,
        round({{ retention.safe_divide('churn_rate_ci_low', 'baseline_churn_rate') }}, 3) as lift_ci_low,
        round(expected_churn_rate, 4) as expected_churn_rate,
        round({{ retention.safe_divide('churn_rate', 'expected_churn_rate') }}, 3) as adjusted_lift,
        round({{ retention.safe_divide('churn_rate_ci_low', 'expected_churn_rate') }}, 3) as adjusted_lift_ci_low,
        churn_rate_ci_low > expected_churn_rate as is_significant,
        row_number() over (
            order by round({{ retention.safe_divide('churn_rate_ci_low', 'expected_churn_rate') }}, 9) desc, orders desc, round(churn_rate, 9) desc, profile_id
        ) as profile_rank,
        row_number() over (
            order by round({{ retention.safe_divide('churn_rate', 'expected_churn_rate') }}, 9) desc, orders desc, round(churn_rate, 9) desc, profile_id
        ) as lift_rank
    from rated
)

select * from final
