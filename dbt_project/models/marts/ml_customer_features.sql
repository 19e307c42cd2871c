-- ML input (F18): one row per customer and snapshot date. The snapshots are the as-of date
-- (for scoring) and ml_snapshot_count dates before it, ml_snapshot_step_days apart (for
-- training and backtests). Every feature of a snapshot uses only what was known at the end
-- of the snapshot date: orders placed, parcels delivered, returns requested, tickets opened
-- or resolved, emails and web sessions up to then (point in time). Customers appear from
-- the snapshot of their first order on. label_churned = no order in the
-- ml_label_horizon_days after the snapshot; it is only final when label_window_complete.
-- BTYD inputs follow ml/btyd.py: frequency_btyd = repeat purchase days, recency_btyd = days
-- from the first to the last purchase day, t_btyd = days from the first purchase to the
-- snapshot, monetary_btyd = mean value of the repeat purchase days.
-- Product quality: returns whose reason blames the product (var quality_return_reasons) and
-- each product's quality-return rate over all customers' order lines up to the snapshot, so
-- a return of a product that many others also sent back stands out from a wrong size, and a
-- last order with a problem product (rate >= problem_product_rate_ratio x all products) shows.

{%- set step = var('ml_snapshot_step_days') | int %}
{%- set horizon = var('ml_label_horizon_days') | int %}
{%- set engagement_window = var('driver_engagement_window_days') | int %}
{%- set long_delivery = var('long_delivery_days') %}
{%- set quality_reasons = var('quality_return_reasons') %}
{%- set problem_ratio = var('problem_product_rate_ratio') %}
{#- a product's quality-return rate is shrunk towards the all-product rate with this many
    pseudo order lines, so a product sold a handful of times does not get an extreme rate -#}
{%- set product_prior_lines = 20 %}

with

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

order_lines as {{ retention.not_materialized() }} (
    select * from {{ ref('fct_order_lines') }}
    where not is_cancelled
        and sku is not null
),

returns as {{ retention.not_materialized() }} (
    select
        platform || ':' || platform_order_id as order_id,
        sku,
        requested_at,
        cast(requested_at as date) as requested_date,
        {%- if quality_reasons %}
        coalesce(return_reason in ('{{ quality_reasons | join("', '") }}'), false) as is_quality_return
        {%- else %}
        false as is_quality_return
        {%- endif %}
    from {{ ref('stg_logistics__returns') }}
),

tickets as (
    select * from {{ ref('int_support_tickets_attributed') }}
    where customer_id is not null
),

email_events as {{ retention.not_materialized() }} (
    select * from {{ ref('int_email_events_attributed') }}
    where customer_id is not null
),

web_sessions as (
    select * from {{ ref('int_web_sessions_aggregated') }}
    where customer_id is not null
),

snapshots as {{ retention.not_materialized() }} (
    select * from {{ ref('int_snapshot_dates_generated') }}
),

order_history as {{ retention.not_materialized() }} (
    select * from {{ ref('int_order_histories_accumulated') }}
),

last_orders as {{ retention.not_materialized() }} (
    select * from {{ ref('int_customer_snapshots_anchored') }}
),

window_counts as (
    select
        order_history.customer_id,
        snapshots.snapshot_date,
        sum(
            case
                when order_history.ordered_date > {{ retention.add_days('snapshots.snapshot_date', -90) }} then 1
                else 0
            end
        ) as orders_last_90d,
        sum(
            case
                when order_history.ordered_date > {{ retention.add_days('snapshots.snapshot_date', -180) }} then 1
                else 0
            end
        ) as orders_last_180d,
        sum(
            case
                when order_history.ordered_date > {{ retention.add_days('snapshots.snapshot_date', -365) }} then 1
                else 0
            end
        ) as orders_last_365d
    from order_history
    inner join snapshots
        on order_history.ordered_date <= snapshots.snapshot_date
        and order_history.ordered_date > {{ retention.add_days('snapshots.snapshot_date', -365) }}
    group by order_history.customer_id, snapshots.snapshot_date
),

return_counts as (
    select
        order_history.customer_id,
        snapshots.snapshot_date,
        count(*) as returns_count
    from order_history
    inner join snapshots
        on order_history.first_return_requested_at < {{ retention.add_days('snapshots.snapshot_date', 1) }}
    group by order_history.customer_id, snapshots.snapshot_date
),

quality_return_counts as (
    select
        order_history.customer_id,
        snapshots.snapshot_date,
        count(*) as quality_returns_count
    from returns
    inner join order_history
        on returns.order_id = order_history.order_id
    inner join snapshots
        on returns.requested_at < {{ retention.add_days('snapshots.snapshot_date', 1) }}
    where returns.is_quality_return
    group by order_history.customer_id, snapshots.snapshot_date
),

product_activity as (
    -- per product and day: order lines placed, and lines returned for a quality reason
    select
        sku,
        ordered_date as activity_date,
        count(*) as lines_sold,
        0 as quality_returns
    from order_lines
    group by sku, ordered_date
    union all
    select
        sku,
        requested_date as activity_date,
        0 as lines_sold,
        count(*) as quality_returns
    from returns
    where is_quality_return
        and sku is not null
    group by sku, requested_date
),

product_totals as (
    -- per product and snapshot: lines sold and quality returns requested by the snapshot
    select
        product_activity.sku,
        snapshots.snapshot_date,
        sum(product_activity.lines_sold) as lines_sold,
        sum(product_activity.quality_returns) as quality_returns
    from product_activity
    inner join snapshots
        on product_activity.activity_date <= snapshots.snapshot_date
    group by product_activity.sku, snapshots.snapshot_date
),

product_quality_rates as (
    -- quality returns per line sold, over every customer, shrunk towards the all-product rate
    select
        sku,
        snapshot_date,
        all_product_rate,
        (quality_returns + {{ product_prior_lines }} * all_product_rate) / (lines_sold + {{ product_prior_lines }})
            as quality_return_rate
    from (
        select
            *,
            coalesce(
                {{ retention.safe_divide(
                    'sum(quality_returns) over (partition by snapshot_date)',
                    'sum(lines_sold) over (partition by snapshot_date)'
                ) }},
                0
            ) as all_product_rate
        from product_totals
    ) as with_overall
),

last_order_returns as (
    -- returns of the last order's lines requested by the snapshot, one row per line
    select
        last_orders.customer_id,
        last_orders.snapshot_date,
        returns.sku,
        max(case when returns.is_quality_return then 1 else 0 end) as is_quality_return
    from last_orders
    inner join returns
        on last_orders.order_id = returns.order_id
        and returns.requested_at < {{ retention.add_days('last_orders.snapshot_date', 1) }}
    group by last_orders.customer_id, last_orders.snapshot_date, returns.sku
),

last_order_quality_returns as (
    select
        customer_id,
        snapshot_date,
        max(is_quality_return) as has_quality_return
    from last_order_returns
    group by customer_id, snapshot_date
),

last_order_products as (
    -- the last order's products: is one of them a problem product (quality-return rate at
    -- least problem_product_rate_ratio x the all-product rate), and the rate of those returned.
    -- Only lines that are one or the other are kept before grouping (a customer with neither
    -- gets false and 0 from the coalesce in final): 7.4M last-order lines at 1M customers
    -- and seven snapshots, of which few are either
    select
        last_orders.customer_id,
        last_orders.snapshot_date,
        max(
            case
                when product_quality_rates.quality_return_rate > 0
                    and product_quality_rates.quality_return_rate
                    >= {{ problem_ratio }} * product_quality_rates.all_product_rate
                    then 1
                else 0
            end
        ) as has_problem_product,
        max(
            case when last_order_returns.sku is not null then product_quality_rates.quality_return_rate end
        ) as returned_product_quality_return_rate
    from last_orders
    inner join order_lines
        on last_orders.order_id = order_lines.order_id
    left join product_quality_rates
        on order_lines.sku = product_quality_rates.sku
        and last_orders.snapshot_date = product_quality_rates.snapshot_date
    left join last_order_returns
        on last_orders.customer_id = last_order_returns.customer_id
        and last_orders.snapshot_date = last_order_returns.snapshot_date
        and order_lines.sku = last_order_returns.sku
    where last_order_returns.sku is not null
        or (
            product_quality_rates.quality_return_rate > 0
            and product_quality_rates.quality_return_rate >= {{ problem_ratio }} * product_quality_rates.all_product_rate
        )
    group by last_orders.customer_id, last_orders.snapshot_date
),

purchase_intervals as (
    -- days between consecutive purchase days, with the day the interval ended
    select
        customer_id,
        ordered_date,
        {{ retention.days_between(
            'lag(ordered_date) over (partition by customer_id order by ordered_date)', 'ordered_date'
        ) }} as interval_days
    from (
        select distinct
            customer_id,
            ordered_date
        from order_history
    ) as purchase_days
),

interval_medians as (
    -- medians only where there are two or more intervals (otherwise median = mean)
    select
        last_orders.customer_id,
        last_orders.snapshot_date,
        {{ retention.median('purchase_intervals.interval_days') }} as median_interval_days
    from last_orders
    inner join purchase_intervals
        on last_orders.customer_id = purchase_intervals.customer_id
        and purchase_intervals.ordered_date <= last_orders.snapshot_date
    where last_orders.running_purchase_days >= 3
        and purchase_intervals.interval_days is not null
    group by last_orders.customer_id, last_orders.snapshot_date
),

ticket_features as (
    select
        tickets.customer_id,
        snapshots.snapshot_date,
        count(*) as ticket_count,
        sum(
            case
                when tickets.is_complaint
                    and (tickets.resolved_at is null or tickets.resolved_at >= {{ retention.add_days('snapshots.snapshot_date', 1) }})
                    then 1
                else 0
            end
        ) as open_complaints,
        max(
            case
                when tickets.is_complaint
                    and (tickets.resolved_at is null or tickets.resolved_at >= {{ retention.add_days('snapshots.snapshot_date', 1) }})
                    then {{ retention.days_between('tickets.created_at', 'snapshots.snapshot_date') }}
            end
        ) as oldest_open_complaint_days
    from tickets
    inner join snapshots
        on tickets.created_at < {{ retention.add_days('snapshots.snapshot_date', 1) }}
    group by tickets.customer_id, snapshots.snapshot_date
),

email_features as (
    select
        email_events.customer_id,
        snapshots.snapshot_date,
        {%- for event_type, name in [('send', 'sends'), ('open', 'opens'), ('click', 'clicks')] %}
        {%- for period, comparison in [('last', '>'), ('prior', '<=')] %}
        sum(
            case
                when email_events.event_type = '{{ event_type }}'
                    and email_events.occurred_date {{ comparison }} {{ retention.add_days('snapshots.snapshot_date', -engagement_window) }}
                    then 1
                else 0
            end
        ) as email_{{ name }}_{{ period }}_{{ engagement_window }}d{{ ',' if not (loop.last and event_type == 'click') }}
        {%- endfor %}
        {%- endfor %}
    from email_events
    inner join snapshots
        on email_events.occurred_date <= snapshots.snapshot_date
        and email_events.occurred_date > {{ retention.add_days('snapshots.snapshot_date', -2 * engagement_window) }}
    where email_events.event_type in ('send', 'open', 'click')
    group by email_events.customer_id, snapshots.snapshot_date
),

email_before_last_order as (
    -- emails in the 2N days up to the last order
    select
        last_orders.customer_id,
        last_orders.snapshot_date,
        sum(case when email_events.event_type = 'send' then 1 else 0 end) as email_sends,
        sum(case when email_events.event_type = 'open' then 1 else 0 end) as email_opens
    from last_orders
    inner join email_events
        on last_orders.customer_id = email_events.customer_id
        and email_events.occurred_at <= last_orders.ordered_at
        and email_events.occurred_date > {{ retention.add_days('last_orders.ordered_date', -2 * engagement_window) }}
    where email_events.event_type in ('send', 'open')
    group by last_orders.customer_id, last_orders.snapshot_date
),

unsubscribes as (
    select
        customer_id,
        min(occurred_date) as unsubscribed_date
    from email_events
    where event_type = 'unsubscribe'
    group by customer_id
),

web_features as (
    select
        web_sessions.customer_id,
        snapshots.snapshot_date,
        sum(
            case when web_sessions.started_date > {{ retention.add_days('snapshots.snapshot_date', -30) }} then 1 else 0 end
        ) as web_sessions_last_30d,
        sum(
            case
                when web_sessions.started_date > {{ retention.add_days('snapshots.snapshot_date', -30) }}
                    then web_sessions.add_to_cart_count
                else 0
            end
        ) as add_to_cart_last_30d,
        sum(
            case when web_sessions.started_date > {{ retention.add_days('snapshots.snapshot_date', -90) }} then 1 else 0 end
        ) as web_sessions_last_90d,
        {{ retention.days_between('max(web_sessions.started_date)', 'snapshots.snapshot_date') }}
            as days_since_last_web_session,
        sum(case when web_sessions.is_abandoned_cart then 1 else 0 end) as abandoned_carts
    from web_sessions
    inner join snapshots
        on web_sessions.ended_at < {{ retention.add_days('snapshots.snapshot_date', 1) }}
    group by web_sessions.customer_id, snapshots.snapshot_date
),

labels as (
    select
        orders.customer_id,
        snapshots.snapshot_date,
        count(*) as orders_in_label_window
    from orders
    inner join snapshots
        on orders.ordered_date > snapshots.snapshot_date
        and orders.ordered_date <= {{ retention.add_days('snapshots.snapshot_date', horizon) }}
    group by orders.customer_id, snapshots.snapshot_date
),

final as (
    select
        last_orders.customer_id || ':' || cast(last_orders.snapshot_date as {{ retention.type_text() }}) as customer_snapshot_id,
        last_orders.customer_id,
        last_orders.snapshot_date,
        snapshots.snapshot_number = 0 as is_scoring_snapshot,
        {{ retention.days_between('last_orders.ordered_date', 'last_orders.snapshot_date') }} as recency_days,
        last_orders.running_orders as frequency,
        cast(last_orders.running_revenue as decimal(18, 2)) as monetary,
        {{ retention.days_between('last_orders.first_order_date', 'last_orders.snapshot_date') }} as tenure_days,
        cast(last_orders.running_revenue / last_orders.running_orders as decimal(18, 2)) as average_order_value,
        coalesce(window_counts.orders_last_90d, 0) as orders_last_90d,
        coalesce(window_counts.orders_last_180d, 0) as orders_last_180d,
        coalesce(window_counts.orders_last_365d, 0) as orders_last_365d,
        -- the intervals between purchase days add up to last minus first purchase day
        round(
            {{ retention.safe_divide(
                retention.days_between('last_orders.first_order_date', 'last_orders.ordered_date'),
                'last_orders.running_purchase_days - 1'
            ) }},
            2
        ) as mean_interval_days,
        round(
            case
                when last_orders.running_purchase_days = 2
                    then {{ retention.days_between('last_orders.first_order_date', 'last_orders.ordered_date') }}
                else interval_medians.median_interval_days
            end,
            2
        ) as median_interval_days,
        round(
            {{ retention.safe_divide(
                retention.days_between('last_orders.ordered_date', 'last_orders.snapshot_date'),
                retention.safe_divide(
                    retention.days_between('last_orders.first_order_date', 'last_orders.ordered_date'),
                    'last_orders.running_purchase_days - 1'
                )
            ) }},
            3
        ) as gap_ratio,
        round({{ retention.safe_divide('last_orders.running_discounted_orders', 'last_orders.running_orders') }}, 4)
            as discount_share,
        last_orders.has_discount as last_order_had_discount,
        case
            when last_orders.delivered_at < {{ retention.add_days('last_orders.snapshot_date', 1) }} then last_orders.delivery_days
        end as last_delivery_days,
        coalesce(
            last_orders.delivered_at < {{ retention.add_days('last_orders.snapshot_date', 1) }}
            and last_orders.delivery_days > {{ long_delivery }},
            false
        ) as last_delivery_over_{{ long_delivery }}d,
        coalesce(last_orders.region, 'Unknown') as region,
        coalesce(last_orders.first_return_requested_at < {{ retention.add_days('last_orders.snapshot_date', 1) }}, false)
            as returned_last_order,
        coalesce(return_counts.returns_count, 0) as returns_count,
        coalesce(last_order_quality_returns.has_quality_return = 1, false) as last_order_quality_return,
        coalesce(quality_return_counts.quality_returns_count, 0) as quality_returns_count,
        round(coalesce(last_order_products.returned_product_quality_return_rate, 0), 4)
            as returned_product_quality_return_rate,
        coalesce(last_order_products.has_problem_product = 1, false) as last_order_had_problem_product,
        coalesce(ticket_features.open_complaints, 0) as open_complaints,
        coalesce(ticket_features.ticket_count, 0) as ticket_count,
        coalesce(ticket_features.oldest_open_complaint_days, 0) as oldest_open_complaint_days,
        coalesce(email_features.email_sends_last_{{ engagement_window }}d, 0)
            as email_sends_last_{{ engagement_window }}d,
        coalesce(email_features.email_sends_prior_{{ engagement_window }}d, 0)
            as email_sends_prior_{{ engagement_window }}d,
        coalesce(email_features.email_opens_last_{{ engagement_window }}d, 0)
            as email_opens_last_{{ engagement_window }}d,
        coalesce(email_features.email_opens_prior_{{ engagement_window }}d, 0)
            as email_opens_prior_{{ engagement_window }}d,
        coalesce(email_features.email_clicks_last_{{ engagement_window }}d, 0)
            as email_clicks_last_{{ engagement_window }}d,
        coalesce(email_features.email_clicks_prior_{{ engagement_window }}d, 0)
            as email_clicks_prior_{{ engagement_window }}d,
        coalesce(email_features.email_opens_last_{{ engagement_window }}d, 0)
        - coalesce(email_features.email_opens_prior_{{ engagement_window }}d, 0) as email_open_trend,
        {{ retention.engagement_trend(
            'email_features.email_opens_last_' ~ engagement_window ~ 'd', 'email_features.email_sends_last_' ~ engagement_window ~ 'd',
            'email_features.email_opens_prior_' ~ engagement_window ~ 'd', 'email_features.email_sends_prior_' ~ engagement_window ~ 'd'
        ) }} as email_engagement_trend,
        round(
            case
                when email_before_last_order.email_opens > email_before_last_order.email_sends then 1.0
                else {{ retention.safe_divide('email_before_last_order.email_opens', 'email_before_last_order.email_sends') }}
            end,
            4
        ) as email_open_rate_before_last_order,
        coalesce(unsubscribes.unsubscribed_date <= last_orders.snapshot_date, false) as is_unsubscribed,
        coalesce(web_features.web_sessions_last_30d, 0) as web_sessions_last_30d,
        coalesce(web_features.add_to_cart_last_30d, 0) as add_to_cart_last_30d,
        coalesce(web_features.web_sessions_last_90d, 0) as web_sessions_last_90d,
        web_features.days_since_last_web_session,
        coalesce(web_features.abandoned_carts, 0) as abandoned_carts,
        {{ retention.platform_count('last_orders.uses_') }} as platform_count,
        case
            when last_orders.running_consumable_amount + last_orders.running_durable_amount = 0 then 'unknown'
            when last_orders.running_consumable_amount >= last_orders.running_durable_amount then 'consumable'
            else 'durable'
        end as dominant_category_type,
        last_orders.running_purchase_days - 1 as frequency_btyd,
        {{ retention.days_between('last_orders.first_order_date', 'last_orders.ordered_date') }} as recency_btyd,
        {{ retention.days_between('last_orders.first_order_date', 'last_orders.snapshot_date') }} as t_btyd,
        cast(
            coalesce(
                {{ retention.safe_divide(
                    'last_orders.running_revenue - last_orders.first_day_amount', 'last_orders.running_purchase_days - 1'
                ) }},
                0
            ) as decimal(18, 2)
        ) as monetary_btyd,
        coalesce(labels.orders_in_label_window, 0) as orders_in_label_window,
        coalesce(labels.orders_in_label_window, 0) = 0 as label_churned,
        {{ retention.add_days('last_orders.snapshot_date', horizon) }} <= snapshots.as_of_date as label_window_complete
    from last_orders
    inner join snapshots
        on last_orders.snapshot_date = snapshots.snapshot_date
    left join window_counts
        on last_orders.customer_id = window_counts.customer_id
        and last_orders.snapshot_date = window_counts.snapshot_date
    left join return_counts
        on last_orders.customer_id = return_counts.customer_id
        and last_orders.snapshot_date = return_counts.snapshot_date
    left join quality_return_counts
        on last_orders.customer_id = quality_return_counts.customer_id
        and last_orders.snapshot_date = quality_return_counts.snapshot_date
    left join last_order_quality_returns
        on last_orders.customer_id = last_order_quality_returns.customer_id
        and last_orders.snapshot_date = last_order_quality_returns.snapshot_date
    left join last_order_products
        on last_orders.customer_id = last_order_products.customer_id
        and last_orders.snapshot_date = last_order_products.snapshot_date
    left join interval_medians
        on last_orders.customer_id = interval_medians.customer_id
        and last_orders.snapshot_date = interval_medians.snapshot_date
    left join ticket_features
        on last_orders.customer_id = ticket_features.customer_id
        and last_orders.snapshot_date = ticket_features.snapshot_date
    left join email_features
        on last_orders.customer_id = email_features.customer_id
        and last_orders.snapshot_date = email_features.snapshot_date
    left join email_before_last_order
        on last_orders.customer_id = email_before_last_order.customer_id
        and last_orders.snapshot_date = email_before_last_order.snapshot_date
    left join unsubscribes
        on last_orders.customer_id = unsubscribes.customer_id
    left join web_features
        on last_orders.customer_id = web_features.customer_id
        and last_orders.snapshot_date = web_features.snapshot_date
    left join labels
        on last_orders.customer_id = labels.customer_id
        and last_orders.snapshot_date = labels.snapshot_date
)

select * from final
