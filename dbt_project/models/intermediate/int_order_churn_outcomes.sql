-- Churn after each purchase (F16): one row per order with whether the customer churned
-- after it (no further order within the customer's churn threshold) and the candidate
-- drivers as categorical values describing that order: where it went, what it contained,
-- how long the delivery took, whether it was returned or left a complaint unresolved,
-- whether the buyer usually had a discount but paid full price, how the buyer's email
-- engagement developed before it, and the customer's stage when placing it.
-- Observing purchases rather than customers keeps the outcome from being true by
-- definition (every one-order customer older than the threshold is churned) and matches
-- how churn happens: after an order. An order is evaluable when its outcome is known:
-- placed more than the customer's threshold before the as-of date.

{%- set window = var('driver_engagement_window_days') | int %}

with

orders as {{ retention.not_materialized() }} (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
    where not is_cancelled
),

segments as (
    select * from {{ ref('customer_segments') }}
),

email_events as (
    select * from {{ ref('int_email_events_attributed') }}
    where customer_id is not null
        and event_type in ('send', 'open')
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

purchase_days as (
    select distinct
        customer_id,
        ordered_date
    from orders
),

next_purchase_days as (
    select
        customer_id,
        ordered_date,
        lead(ordered_date) over (partition by customer_id order by ordered_date) as next_ordered_date
    from purchase_days
),

sequenced as (
    select
        orders.*,
        coalesce(
            sum(case when orders.has_discount then 1 else 0 end) over (
                partition by orders.customer_id
                order by orders.ordered_at, orders.order_id
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as prior_discounted_count
    from orders
),

returned_skus as (
    select
        order_id,
        min(sku) as returned_sku
    from order_lines
    where is_returned
    group by order_id
),

engagement_before_order as (
    select
        orders.order_id,
        sum(
            case
                when email_events.event_type = 'send'
                    and email_events.occurred_date > {{ retention.add_days('orders.ordered_date', -window) }}
                    then 1
                else 0
            end
        ) as sends_recent,
        sum(
            case
                when email_events.event_type = 'send'
                    and email_events.occurred_date <= {{ retention.add_days('orders.ordered_date', -window) }}
                    then 1
                else 0
            end
        ) as sends_prior,
        sum(
            case
                when email_events.event_type = 'open'
                    and email_events.occurred_date > {{ retention.add_days('orders.ordered_date', -window) }}
                    then 1
                else 0
            end
        ) as opens_recent,
        sum(
            case
                when email_events.event_type = 'open'
                    and email_events.occurred_date <= {{ retention.add_days('orders.ordered_date', -window) }}
                    then 1
                else 0
            end
        ) as opens_prior
    from orders
    inner join email_events
        on orders.customer_id = email_events.customer_id
        and email_events.occurred_date <= orders.ordered_date
        and email_events.occurred_date > {{ retention.add_days('orders.ordered_date', -3 * window) }}
    group by orders.order_id
),

final as (
    select
        sequenced.order_id,
        sequenced.customer_id,
        sequenced.ordered_date,
        segments.churn_threshold_days,
        next_purchase_days.next_ordered_date,
        {{ retention.days_between('sequenced.ordered_date', 'next_purchase_days.next_ordered_date') }} as days_to_next_order,
        coalesce(
            {{ retention.days_between('sequenced.ordered_date', 'next_purchase_days.next_ordered_date') }} > segments.churn_threshold_days,
            true
        ) as is_churn_event,
        {{ retention.days_between('sequenced.ordered_date', 'as_of.as_of_date') }} > segments.churn_threshold_days
            as is_evaluable,
        coalesce(sequenced.country_code, 'unknown') as country,
        coalesce(sequenced.region, 'Unknown') as region,
        sequenced.platform,
        coalesce(sequenced.primary_sku, 'unknown') as product,
        coalesce(sequenced.primary_category, 'unknown') as category,
        sequenced.delivery_time_bucket,
        case when sequenced.is_returned then 'yes' else 'no' end as returned_order,
        coalesce(returned_skus.returned_sku, 'none') as returned_product,
        case when sequenced.has_open_complaint then 'yes' else 'no' end as open_complaint,
        {{ retention.engagement_trend(
            'engagement_before_order.opens_recent', 'engagement_before_order.sends_recent',
            'engagement_before_order.opens_prior', 'engagement_before_order.sends_prior'
        ) }} as email_engagement_trend,
        case
            when sequenced.customer_order_number >= {{ var('loyal_min_orders') }} then 'loyal'
            when sequenced.customer_order_number >= 2 then 'repeat'
            else 'new'
        end as lifecycle_stage,
        case
            when sequenced.customer_order_number = 1
                then case when sequenced.has_discount then 'first_order_discounted' else 'first_order_full_price' end
            when sequenced.prior_discounted_count * 2 >= sequenced.customer_order_number - 1
                then case when sequenced.has_discount then 'discount_seeker_discounted' else 'discount_seeker_full_price' end
            when sequenced.prior_discounted_count > 0 then 'occasional_discount'
            else 'never_discount'
        end as price_sensitivity,
        case when sequenced.has_discount then 'discounted' else 'full_price' end as discount
    from sequenced
    cross join as_of
    inner join segments
        on sequenced.customer_id = segments.customer_id
    left join next_purchase_days
        on sequenced.customer_id = next_purchase_days.customer_id
        and sequenced.ordered_date = next_purchase_days.ordered_date
    left join returned_skus
        on sequenced.order_id = returned_skus.order_id
    left join engagement_before_order
        on sequenced.order_id = engagement_before_order.order_id
)

select * from final
