-- One row per web session up to the as-of date: who (when any event of the session carries
-- a known address), when, and how far it got. A cart is abandoned when the session added to
-- cart but did not purchase.
-- Incremental while the as-of date follows the data (a pinned as_of_date builds a plain
-- table): a nightly run rebuilds, from all their events, the sessions with an event loaded
-- since the last build or newly reached by the as-of date, and the sessions whose address
-- now belongs to another customer. A session that carried several addresses is rebuilt
-- every night (rare: one address identifies it).

{{ config(
    materialized=retention.incremental_unless_as_of_pinned(),
    unique_key='session_id',
) }}

with

events as (
    select
        *,
        coalesce(session_id, web_event_id) as session_key
    from {{ ref('stg_web__events') }}
),

emails as (
    select * from {{ ref('int_customer_emails_resolved') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

{% if is_incremental() -%}
built as {{ retention.not_materialized() }} (
    select * from {{ this }}
),

changed_sessions as (
    select session_key as session_id
    from events
    where loaded_at > coalesce((select max(loaded_at) from built), cast('1900-01-01' as timestamp))
        -- everything up to the latest event built is in, so the as-of date reached the rest
        or occurred_at > coalesce((select max(ended_at) from built), cast('1900-01-01' as timestamp))

    union

    select built.session_id
    from built
    left join emails
        on built.email = emails.email
    where built.has_several_emails
        or emails.customer_id is distinct from built.customer_id
),

{% endif -%}
sessions as (
    select
        events.session_key as session_id,
        min(emails.customer_id) as customer_id,
        min(events.email) as email,
        min(events.email) <> max(events.email) as has_several_emails,
        min(events.occurred_at) as started_at,
        max(events.occurred_at) as ended_at,
        count(*) as event_count,
        sum(case when events.event_type = 'product_view' then 1 else 0 end) as product_view_count,
        sum(case when events.event_type = 'add_to_cart' then 1 else 0 end) as add_to_cart_count,
        max(case when events.event_type = 'checkout_start' then 1 else 0 end) = 1 as has_checkout_start,
        max(case when events.event_type = 'purchase' then 1 else 0 end) = 1 as has_purchase,
        max(events.loaded_at) as loaded_at
    from events
    inner join as_of
        on events.occurred_at < as_of.as_of_end_at
    left join emails
        on events.email = emails.email
    {%- if is_incremental() %}
    where events.session_key in (select session_id from changed_sessions)
    {%- endif %}
    group by events.session_key
),

final as (
    select
        session_id,
        customer_id,
        email,
        coalesce(has_several_emails, false) as has_several_emails,
        started_at,
        cast(started_at as date) as started_date,
        ended_at,
        event_count,
        product_view_count,
        add_to_cart_count,
        has_checkout_start,
        has_purchase,
        add_to_cart_count > 0 and not has_purchase as is_abandoned_cart,
        loaded_at
    from sessions
)

select * from final
