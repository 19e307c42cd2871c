-- F16 systemic issues: countries, regions, products, categories and returned products
-- whose churn rate (churn_by_dimension) is significantly above the baseline (the whole 95%
-- interval above it, at least min_profile_customers customers), with what else sets them
-- apart: the long-delivery share of the orders shipped there (markets) and the return rate
-- (products). One row per flagged dimension value.

with

by_dimension as (
    select * from {{ ref('churn_by_dimension') }}
    where dimension in ('country', 'region', 'product', 'category', 'returned_product')
),

orders as {{ retention.not_materialized() }} (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

order_lines as {{ retention.not_materialized() }} (
    select * from {{ ref('fct_order_lines') }}
    where not is_cancelled
),

country_logistics as (
    select
        'country' as dimension,
        country_code as dimension_value,
        {{ retention.safe_divide('sum(case when is_long_delivery then 1 else 0 end)', 'count(delivery_days)') }}
            as long_delivery_share,
        cast(null as double) as return_rate
    from orders
    group by country_code
),

region_logistics as (
    select
        'region' as dimension,
        region as dimension_value,
        {{ retention.safe_divide('sum(case when is_long_delivery then 1 else 0 end)', 'count(delivery_days)') }}
            as long_delivery_share,
        cast(null as double) as return_rate
    from orders
    group by region
),

product_returns as (
    select
        'product' as dimension,
        sku as dimension_value,
        cast(null as double) as long_delivery_share,
        {{ retention.safe_divide('sum(case when is_returned then 1 else 0 end)', 'count(*)') }} as return_rate
    from order_lines
    group by sku
),

category_returns as (
    select
        'category' as dimension,
        category as dimension_value,
        cast(null as double) as long_delivery_share,
        {{ retention.safe_divide('sum(case when is_returned then 1 else 0 end)', 'count(*)') }} as return_rate
    from order_lines
    group by category
),

context as (
    select * from country_logistics
    union all
    select * from region_logistics
    union all
    select * from product_returns
    union all
    select * from category_returns
    union all
    select
        'returned_product' as dimension,
        dimension_value,
        long_delivery_share,
        return_rate
    from product_returns
),

final as (
    select
        by_dimension.dimension_value_id as issue_id,
        case when by_dimension.dimension in ('country', 'region') then 'market' else 'product' end as issue_type,
        by_dimension.dimension,
        by_dimension.dimension_value,
        by_dimension.orders,
        by_dimension.customers,
        by_dimension.churn_events,
        by_dimension.churn_rate,
        by_dimension.baseline_churn_rate,
        by_dimension.lift,
        by_dimension.expected_churn_rate,
        by_dimension.adjusted_lift,
        by_dimension.adjusted_lift_ci_low,
        by_dimension.adjusted_lift_ci_high,
        -- one-sample z statistic of the rate against its expected rate
        round(
            (by_dimension.churn_rate - by_dimension.expected_churn_rate)
            / nullif(sqrt(by_dimension.expected_churn_rate * (1 - by_dimension.expected_churn_rate) / by_dimension.orders), 0),
            2
        ) as z_score,
        -- about 3 standard errors: strong enough to survive testing dozens of values at once
        (by_dimension.churn_rate - by_dimension.expected_churn_rate)
        / nullif(sqrt(by_dimension.expected_churn_rate * (1 - by_dimension.expected_churn_rate) / by_dimension.orders), 0)
        >= 3 as is_strong_evidence,
        round(context.long_delivery_share, 4) as long_delivery_share,
        round(context.return_rate, 4) as return_rate,
        row_number() over (order by by_dimension.adjusted_lift_ci_low desc, by_dimension.orders desc, by_dimension.dimension, by_dimension.dimension_value) as issue_rank
    from by_dimension
    left join context
        on by_dimension.dimension = context.dimension
        and by_dimension.dimension_value = context.dimension_value
    where by_dimension.is_significant
)

select * from final
