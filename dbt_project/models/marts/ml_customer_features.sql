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

{%- set step = var('ml_snapshot_step_days') | int %}
{%- set horizon = var('ml_label_horizon_days') | int %}
{%- set engagement_window = var('driver_engagement_window_days') | int %}
{%- set long_delivery = var('long_delivery_days') %}

with

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

tickets as (
    select * from {{ ref('int_support_tickets_attributed') }}
    where customer_id is not null
),

email_events as (
    select * from {{ ref('int_email_events_attributed') }}
    where customer_id is not null
),

web_sessions as (
    select * from {{ ref('int_web_sessions_aggregated') }}
    where customer_id is not null
),

snapshots as (
    select * from {{ ref('int_snapshot_dates_generated') }}
),

order_history as (
    select * from {{ ref('int_order_histories_accumulated') }}
),

last_orders as (
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
        ) as open_complaints
    from tickets
    inner join snapshots
        on tickets.created_at < {{ retention.add_days('snapshots.snapshot_date', 1) }}
    group by tickets.customer_id, snapshots.snapshot_date
),

email_features as (
    select
        email_events.customer_id,
        snapshots.snapshot_date,
        sum(
            case
                when email_events.event_type = 'send'
                    and email_events.occurred_date > {{ retention.add_days('snapshots.snapshot_date', -engagement_window) }}
                    then 1
                else 0
            end
        ) as email_sends_last_{{ engagement_window }}d,
        sum(
            case
                when email_events.event_type = 'send'
                    and email_events.occurred_date <= {{ retention.add_days('snapshots.snapshot_date', -engagement_window) }}
                    then 1
                else 0
            end
        ) as email_sends_prior_{{ engagement_window }}d,
        sum(
            case
                when email_events.event_type = 'open'
                    and email_events.occurred_date > {{ retention.add_days('snapshots.snapshot_date', -engagement_window) }}
                    then 1
                else 0
            end
        ) as email_opens_last_{{ engagement_window }}d,
        sum(
            case
                when email_events.event_type = 'open'
                    and email_events.occurred_date <= {{ retention.add_days('snapshots.snapshot_date', -engagement_window) }}
                    then 1
                else 0
            end
        ) as email_opens_prior_{{ engagement_window }}d,
        sum(
            case
                when email_events.event_type = 'click'
                    and email_events.occurred_date > {{ retention.add_days('snapshots.snapshot_date', -engagement_window) }}
                    then 1
                else 0
            end
        ) as email_clicks_last_{{ engagement_window }}d,
        sum(
            case
                when email_events.event_type = 'click'
                    and email_events.occurred_date <= {{ retention.add_days('snapshots.snapshot_date', -engagement_window) }}
                    then 1
                else 0
            end
        ) as email_clicks_prior_{{ engagement_window }}d
    from email_events
    inner join snapshots
        on email_events.occurred_date <= snapshots.snapshot_date
        and email_events.occurred_date > {{ retention.add_days('snapshots.snapshot_date', -2 * engagement_window) }}
    where email_events.event_type in ('send', 'open', 'click')
    group by email_events.customer_id, snapshots.snapshot_date
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
        coalesce(ticket_features.open_complaints, 0) as open_complaints,
        coalesce(ticket_features.ticket_count, 0) as ticket_count,
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
        coalesce(unsubscribes.unsubscribed_date <= last_orders.snapshot_date, false) as is_unsubscribed,
        coalesce(web_features.web_sessions_last_30d, 0) as web_sessions_last_30d,
        coalesce(web_features.add_to_cart_last_30d, 0) as add_to_cart_last_30d,
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
    left join interval_medians
        on last_orders.customer_id = interval_medians.customer_id
        and last_orders.snapshot_date = interval_medians.snapshot_date
    left join ticket_features
        on last_orders.customer_id = ticket_features.customer_id
        and last_orders.snapshot_date = ticket_features.snapshot_date
    left join email_features
        on last_orders.customer_id = email_features.customer_id
        and last_orders.snapshot_date = email_features.snapshot_date
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
