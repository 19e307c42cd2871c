-- Email events up to the as-of date with the customer they belong to (null when the
-- address matches no customer, e.g. a newsletter subscriber who never ordered).
-- Incremental while the as-of date follows the data (a pinned as_of_date builds a plain
-- table): a nightly run merges the events loaded since the last build, the events the
-- as-of date has now reached, and every event of an address that now belongs to another
-- customer (an identity merge, a first order with that address).

{{ config(
    materialized=retention.incremental_unless_as_of_pinned(),
    unique_key='email_event_id',
) }}

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

{% if is_incremental() -%}
built as {{ retention.not_materialized() }} (
    select * from {{ this }}
),

-- addresses whose customer is not the one the built events carry
reassigned_emails as (
    select built_emails.email
    from (select distinct email, customer_id from built) as built_emails
    left join emails
        on built_emails.email = emails.email
    where emails.customer_id is distinct from built_emails.customer_id
),

{% endif -%}
final as (
    select
        events.email_event_id,
        emails.customer_id,
        events.email,
        events.event_type,
        events.campaign_id,
        events.campaign_name,
        events.occurred_at,
        cast(events.occurred_at as date) as occurred_date,
        events.loaded_at,
        {{ retention.build_started_at() }} as built_at
    from events
    inner join as_of
        on events.occurred_at < as_of.as_of_end_at
    left join emails
        on events.email = emails.email
    {%- if is_incremental() %}
    where events.loaded_at > coalesce((select max(loaded_at) from built), cast('1900-01-01' as timestamp))
        -- everything up to the latest event built is in, so the as-of date reached the rest
        or events.occurred_at > coalesce((select max(occurred_at) from built), cast('1900-01-01' as timestamp))
        or events.email in (select email from reassigned_emails)
    {%- endif %}
)

select * from final
