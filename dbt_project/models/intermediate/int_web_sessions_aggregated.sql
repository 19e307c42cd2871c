-- One row per web session up to the as-of date: who (when any event of the session carries
-- a known address), when, and how far it got. A cart is abandoned when the session added to
-- cart but did not purchase.

with

events as (
    select * from {{ ref('stg_web__events') }}
),

emails as (
    select * from {{ ref('int_customer_emails_resolved') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

sessions as (
    select
        coalesce(events.session_id, events.web_event_id) as session_id,
        min(emails.customer_id) as customer_id,
        min(events.occurred_at) as started_at,
        max(events.occurred_at) as ended_at,
        count(*) as event_count,
        sum(case when events.event_type = 'product_view' then 1 else 0 end) as product_view_count,
        sum(case when events.event_type = 'add_to_cart' then 1 else 0 end) as add_to_cart_count,
        max(case when events.event_type = 'checkout_start' then 1 else 0 end) = 1 as has_checkout_start,
        max(case when events.event_type = 'purchase' then 1 else 0 end) = 1 as has_purchase
    from events
    inner join as_of
        on events.occurred_at < as_of.as_of_end_at
    left join emails
        on events.email = emails.email
    group by coalesce(events.session_id, events.web_event_id)
),

final as (
    select
        session_id,
        customer_id,
        started_at,
        cast(started_at as date) as started_date,
        ended_at,
        event_count,
        product_view_count,
        add_to_cart_count,
        has_checkout_start,
        has_purchase,
        add_to_cart_count > 0 and not has_purchase as is_abandoned_cart
    from sessions
)

select * from final
