-- Email events up to the as-of date with the customer they belong to (null when the
-- address matches no customer, e.g. a newsletter subscriber who never ordered).

with

events as (
    select * from {{ ref('stg_email__events') }}
),

emails as (
    select * from {{ ref('int_customer_emails_resolved') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

final as (
    select
        events.email_event_id,
        emails.customer_id,
        events.email,
        events.event_type,
        events.campaign_id,
        events.campaign_name,
        events.occurred_at,
        cast(events.occurred_at as date) as occurred_date
    from events
    inner join as_of
        on events.occurred_at < as_of.as_of_end_at
    left join emails
        on events.email = emails.email
)

select * from final
