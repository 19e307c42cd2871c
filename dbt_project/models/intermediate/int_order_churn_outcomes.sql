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
-- Incremental while the as-of date follows the data (a pinned as_of_date builds a plain
-- table): a nightly run rebuilds every order of the customers with an order whose row
-- would change - a new, changed or cancelled order, an order now of another customer, a new
-- return, new email engagement before an order, a changed churn threshold, an order whose
-- outcome the as-of date has just made known - and leaves the other customers' orders.
-- Orders no longer in scope (cancelled, merged away) are deleted after the merge.

{{ config(
    materialized=retention.incremental_unless_as_of_pinned(),
    unique_key='order_id',
    post_hook="{{ retention.delete_keys_missing_from(this, 'order_id', ref('fct_orders'), 'not is_cancelled') }}",
) }}

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

engagement_trends as {{ retention.not_materialized() }} (
    select
        order_id,
        {{ retention.engagement_trend(
            'opens_recent', 'sends_recent', 'opens_prior', 'sends_prior'
        ) }} as email_engagement_trend
    from engagement_before_order
),

{% if is_incremental() -%}
built as {{ retention.not_materialized() }} (
    select * from {{ this }}
),

changed_customers as (
    -- orders that are new, gone, or whose description, place in the history or customer changed
    select coalesce(orders.customer_id, built.customer_id) as customer_id
    from orders
    full outer join built
        on orders.order_id = built.order_id
    where orders.order_id is null
        or built.order_id is null
        or orders.customer_id is distinct from built.customer_id
        or orders.ordered_date is distinct from built.ordered_date
        or orders.customer_order_number is distinct from built.customer_order_number
        or orders.has_discount is distinct from (built.discount = 'discounted')
        or coalesce(orders.country_code, 'unknown') is distinct from built.country
        or coalesce(orders.region, 'Unknown') is distinct from built.region
        or orders.platform is distinct from built.platform
        or coalesce(orders.primary_sku, 'unknown') is distinct from built.product
        or coalesce(orders.primary_category, 'unknown') is distinct from built.category
        or orders.delivery_time_bucket is distinct from built.delivery_time_bucket
        or orders.is_returned is distinct from (built.returned_order = 'yes')
        or orders.has_open_complaint is distinct from (built.open_complaint = 'yes')
        -- loyal_min_orders changed
        or built.customer_order_number >= {{ var('loyal_min_orders') }} and built.lifecycle_stage <> 'loyal'
        or built.customer_order_number < {{ var('loyal_min_orders') }} and built.lifecycle_stage = 'loyal'

    union

    -- the customer's churn threshold changed
    select built.customer_id
    from built
    inner join segments
        on built.customer_id = segments.customer_id
    where built.churn_threshold_days is distinct from segments.churn_threshold_days

    union

    -- the outcome of an order became known
    select built.customer_id
    from built
    cross join as_of
    where not built.is_evaluable
        and {{ retention.days_between('built.ordered_date', 'as_of.as_of_date') }} > built.churn_threshold_days

    union

    -- a product of the order was returned (or a return is no longer known)
    select built.customer_id
    from built
    left join returned_skus
        on built.order_id = returned_skus.order_id
    where (built.returned_product <> 'none' or returned_skus.order_id is not null)
        and built.returned_product is distinct from coalesce(returned_skus.returned_sku, 'none')

    union

    -- email engagement before the order changed (a late event, a re-attributed address)
    select built.customer_id
    from built
    left join engagement_trends
        on built.order_id = engagement_trends.order_id
    where built.email_engagement_trend is distinct from coalesce(engagement_trends.email_engagement_trend, 'not_emailed')
),

{% endif -%}
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
        case when sequenced.has_discount then 'discounted' else 'full_price' end as discount,
        sequenced.customer_order_number
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
    {%- if is_incremental() %}
    where sequenced.customer_id in (select customer_id from changed_customers)
    {%- endif %}
)

select * from final
