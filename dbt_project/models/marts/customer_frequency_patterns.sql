-- F14 frequency patterns, one row per customer at the as-of date:
-- * replenishment: for the consumable the customer buys most often, the customer's own
--   median days between purchases of it (else the product's), and whether the customer is
--   past replenishment_lapse_ratio x that cycle without buying it;
-- * trading up / down: AOV in the last pattern_window_days vs the window before, when the
--   number of orders stayed stable (ratio within 2/3..3/2); a change of at least
--   aov_change_threshold either way is trading up / down;
-- * seasonality: orders in the last seasonality_window_days vs the window before and vs the
--   same window a year earlier, so that a dip that also happened last year is "seasonal".

{%- set window = var('pattern_window_days') | int %}
{%- set season = var('seasonality_window_days') | int %}

with

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
    where not is_cancelled
        and category_type = 'consumable'
),

customers as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

products as (
    select * from {{ ref('product_repurchase') }}
),

as_of as {{ retention.not_materialized() }} (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

consumable_days as (
    select distinct
        customer_id,
        sku,
        ordered_date
    from order_lines
),

consumable_cycles as (
    select
        customer_id,
        sku,
        ordered_date,
        {{ retention.days_between(
            'lag(ordered_date) over (partition by customer_id, sku order by ordered_date)', 'ordered_date'
        ) }} as cycle_days
    from consumable_days
),

customer_consumables as (
    select
        customer_id,
        sku,
        count(*) as purchase_days,
        max(ordered_date) as last_purchase_date,
        {{ retention.median('cycle_days') }} as own_cycle_days,
        row_number() over (
            partition by customer_id order by count(*) desc, max(ordered_date) desc, sku
        ) as consumable_rank
    from consumable_cycles
    group by customer_id, sku
),

replenishment as (
    select
        customer_consumables.customer_id,
        customer_consumables.sku as replenishment_sku,
        customer_consumables.purchase_days as replenishment_purchase_days,
        customer_consumables.last_purchase_date as replenishment_last_purchase_date,
        coalesce(customer_consumables.own_cycle_days, products.median_repurchase_days) as replenishment_cycle_days,
        case when customer_consumables.own_cycle_days is not null then 'own' else 'product' end as replenishment_cycle_source
    from customer_consumables
    left join products
        on customer_consumables.sku = products.sku
    where customer_consumables.consumable_rank = 1
),

windows as (
    select
        orders.customer_id,
        sum(case when orders.ordered_date > {{ retention.add_days('as_of.as_of_date', -window) }} then 1 else 0 end)
            as orders_recent_window,
        sum(case when orders.ordered_date > {{ retention.add_days('as_of.as_of_date', -window) }} then orders.order_amount else 0 end)
            as revenue_recent_window,
        sum(
            case
                when orders.ordered_date <= {{ retention.add_days('as_of.as_of_date', -window) }}
                    and orders.ordered_date > {{ retention.add_days('as_of.as_of_date', -2 * window) }}
                    then 1
                else 0
            end
        ) as orders_prior_window,
        sum(
            case
                when orders.ordered_date <= {{ retention.add_days('as_of.as_of_date', -window) }}
                    and orders.ordered_date > {{ retention.add_days('as_of.as_of_date', -2 * window) }}
                    then orders.order_amount
                else 0
            end
        ) as revenue_prior_window,
        sum(case when orders.ordered_date > {{ retention.add_days('as_of.as_of_date', -season) }} then 1 else 0 end)
            as orders_last_season_window,
        sum(
            case
                when orders.ordered_date <= {{ retention.add_days('as_of.as_of_date', -season) }}
                    and orders.ordered_date > {{ retention.add_days('as_of.as_of_date', -2 * season) }}
                    then 1
                else 0
            end
        ) as orders_previous_season_window,
        sum(
            case
                when orders.ordered_date <= {{ retention.add_days('as_of.as_of_date', -365) }}
                    and orders.ordered_date > {{ retention.add_days('as_of.as_of_date', -365 - season) }}
                    then 1
                else 0
            end
        ) as orders_same_window_last_year
    from orders
    cross join as_of
    group by orders.customer_id
),

combined as (
    select
        customers.customer_id,
        customers.tenure_days,
        replenishment.replenishment_sku,
        replenishment.replenishment_purchase_days,
        replenishment.replenishment_last_purchase_date,
        replenishment.replenishment_cycle_days,
        replenishment.replenishment_cycle_source,
        {{ retention.days_between('replenishment.replenishment_last_purchase_date', 'as_of.as_of_date') }}
            as days_since_replenishment,
        coalesce(windows.orders_recent_window, 0) as orders_recent_window,
        coalesce(windows.orders_prior_window, 0) as orders_prior_window,
        {{ retention.safe_divide('windows.revenue_recent_window', 'windows.orders_recent_window') }} as aov_recent_window,
        {{ retention.safe_divide('windows.revenue_prior_window', 'windows.orders_prior_window') }} as aov_prior_window,
        coalesce(windows.orders_last_season_window, 0) as orders_last_season_window,
        coalesce(windows.orders_previous_season_window, 0) as orders_previous_season_window,
        coalesce(windows.orders_same_window_last_year, 0) as orders_same_window_last_year
    from customers
    cross join as_of
    left join replenishment
        on customers.customer_id = replenishment.customer_id
    left join windows
        on customers.customer_id = windows.customer_id
),

final as (
    select
        customer_id,
        replenishment_sku,
        replenishment_purchase_days,
        replenishment_last_purchase_date,
        replenishment_cycle_days,
        replenishment_cycle_source,
        days_since_replenishment,
        case
            when replenishment_cycle_days > 0
                then {{ retention.add_days('replenishment_last_purchase_date', 'round(replenishment_cycle_days)') }}
        end as replenishment_due_date,
        coalesce(
            replenishment_cycle_days > 0
            and days_since_replenishment > {{ var('replenishment_lapse_ratio') }} * replenishment_cycle_days,
            false
        ) as is_replenishment_lapsed,
        orders_recent_window,
        orders_prior_window,
        round(aov_recent_window, 2) as aov_recent_window,
        round(aov_prior_window, 2) as aov_prior_window,
        round(aov_recent_window / nullif(aov_prior_window, 0) - 1, 4) as aov_change,
        orders_recent_window >= 1
        and orders_prior_window >= 1
        and orders_recent_window * 3 >= orders_prior_window * 2
        and orders_recent_window * 2 <= orders_prior_window * 3 as is_frequency_stable,
        case
            when orders_recent_window = 0 or orders_prior_window = 0 then 'insufficient_history'
            when orders_recent_window * 3 < orders_prior_window * 2
                or orders_recent_window * 2 > orders_prior_window * 3 then 'frequency_changed'
            when aov_recent_window >= aov_prior_window * (1 + {{ var('aov_change_threshold') }}) then 'trading_up'
            when aov_recent_window <= aov_prior_window * (1 - {{ var('aov_change_threshold') }}) then 'trading_down'
            else 'stable'
        end as trading_pattern,
        orders_last_season_window,
        orders_previous_season_window,
        orders_same_window_last_year,
        tenure_days >= 365 + {{ season }} as has_year_history,
        orders_last_season_window < orders_previous_season_window as is_dip_vs_previous_window,
        tenure_days >= 365 + {{ season }}
        and orders_last_season_window < orders_same_window_last_year as is_declining_year_over_year,
        -- a dip against the previous window that last year's same window also shows
        orders_last_season_window < orders_previous_season_window
        and tenure_days >= 365 + {{ season }}
        and orders_last_season_window >= orders_same_window_last_year as is_seasonal_dip
    from combined
)

select * from final
