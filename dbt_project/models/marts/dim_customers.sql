-- The customer 360 (F8): one row per person who placed at least one (not cancelled) order
-- up to the as-of date, with contact details for activation, the order history summary,
-- product preferences, returns, tickets, email engagement, carts, consent, and the current
-- RFM segment and churn status. `email` is never a marketplace relay address (those are in
-- `relay_email`), so an audience export can use it as is.

{%- set window = var('engagement_window_days') | int %}

with

customers as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

orders as (
    select * from {{ ref('int_orders_converted') }}
),

identities as (
    select * from {{ ref('int_customer_identities_resolved') }}
),

email_events as (
    select * from {{ ref('int_email_events_attributed') }}
    where customer_id is not null
),

web_sessions as (
    select * from {{ ref('int_web_sessions_aggregated') }}
    where customer_id is not null
),

tickets as (
    select * from {{ ref('int_support_tickets_attributed') }}
    where customer_id is not null
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
    where not is_cancelled
),

segments as (
    select * from {{ ref('customer_segments') }}
),

countries as (
    select * from {{ ref('country_codes') }}
),

as_of as {{ retention.not_materialized() }} (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

customer_orders as (
    select
        identities.customer_id,
        identities.cluster_account_count,
        orders.*
    from orders
    inner join identities
        on orders.account_id = identities.account_id
),

contacts as (
    -- the latest known value of each field
    select
        customer_id,
        {{ retention.arg_max(
            'case when not is_relay_email then email end',
            'case when email is not null and not is_relay_email then ordered_at end'
        ) }} as email,
        {{ retention.arg_max('case when is_relay_email then email end', 'case when is_relay_email then ordered_at end') }}
            as relay_email,
        {{ retention.arg_max('phone_e164', 'case when phone_e164 is not null then ordered_at end') }} as phone,
        {{ retention.arg_max('first_name', 'case when first_name is not null then ordered_at end') }} as first_name,
        {{ retention.arg_max('last_name', 'case when last_name is not null then ordered_at end') }} as last_name,
        {{ retention.arg_max('city', 'case when city is not null then ordered_at end') }} as city,
        {{ retention.arg_max('state', 'case when state is not null then ordered_at end') }} as state,
        {{ retention.arg_max('postal_code', 'case when postal_code is not null then ordered_at end') }} as postal_code,
        {{ retention.arg_max('country_code', 'case when country_code is not null then ordered_at end') }} as country_code,
        {{ retention.arg_max(
            'email_consent_state',
            'case when email_consent_state is not null then coalesce(email_consent_updated_at, ordered_at) end'
        ) }} as shopify_email_consent_state,
        max(case when email_consent_state is not null then coalesce(email_consent_updated_at, ordered_at) end)
            as shopify_email_consent_at,
        -- every account of a person has an order here (identities are built from these
        -- orders), so this is count(distinct account_id) without DuckDB materialising the
        -- 2M joined order rows for the distinct count (about 1 s at 1M customers)
        max(cluster_account_count) as account_count
    from customer_orders
    group by customer_id
),

email_engagement as (
    select
        email_events.customer_id,
        sum(
            case
                when email_events.event_type = 'send'
                    and email_events.occurred_date > {{ retention.add_days('as_of.as_of_date', -window) }}
                    then 1
                else 0
            end
        ) as email_sends_recent,
        sum(
            case
                when email_events.event_type = 'open'
                    and email_events.occurred_date > {{ retention.add_days('as_of.as_of_date', -window) }}
                    then 1
                else 0
            end
        ) as email_opens_recent,
        sum(
            case
                when email_events.event_type = 'open'
                    and email_events.occurred_date <= {{ retention.add_days('as_of.as_of_date', -window) }}
                    and email_events.occurred_date > {{ retention.add_days('as_of.as_of_date', -2 * window) }}
                    then 1
                else 0
            end
        ) as email_opens_prior,
        sum(
            case
                when email_events.event_type = 'send'
                    and email_events.occurred_date <= {{ retention.add_days('as_of.as_of_date', -window) }}
                    and email_events.occurred_date > {{ retention.add_days('as_of.as_of_date', -2 * window) }}
                    then 1
                else 0
            end
        ) as email_sends_prior,
        sum(
            case
                when email_events.event_type = 'click'
                    and email_events.occurred_date > {{ retention.add_days('as_of.as_of_date', -window) }}
                    then 1
                else 0
            end
        ) as email_clicks_recent,
        max(case when email_events.event_type = 'open' then email_events.occurred_at end) as last_email_open_at,
        max(case when email_events.event_type = 'unsubscribe' then email_events.occurred_at end) as unsubscribed_at
    from email_events
    cross join as_of
    group by email_events.customer_id
),

web_activity as (
    select
        web_sessions.customer_id,
        sum(case when web_sessions.started_date > {{ retention.add_days('as_of.as_of_date', -30) }} then 1 else 0 end)
            as web_sessions_last_30d,
        count(*) as web_session_count,
        sum(case when web_sessions.is_abandoned_cart then 1 else 0 end) as abandoned_cart_count,
        max(case when web_sessions.is_abandoned_cart then web_sessions.started_at end) as last_abandoned_cart_at
    from web_sessions
    cross join as_of
    group by web_sessions.customer_id
),

ticket_facts as (
    select
        customer_id,
        count(*) as ticket_count,
        sum(case when is_complaint then 1 else 0 end) as complaint_count,
        sum(case when is_open_complaint then 1 else 0 end) as open_complaint_count
    from tickets
    group by customer_id
),

return_facts as (
    select
        customer_id,
        sum(case when is_returned then 1 else 0 end) as returned_line_count
    from order_lines
    group by customer_id
),

final as (
    select
        customers.customer_id,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.relay_email,
        contacts.phone,
        contacts.city,
        contacts.state,
        contacts.postal_code as zip,
        coalesce(contacts.country_code, customers.last_country_code) as country_code,
        countries.country_name,
        coalesce(countries.region, 'Unknown') as region,
        customers.first_ordered_at,
        customers.last_ordered_at,
        customers.first_order_date,
        customers.last_order_date,
        customers.days_since_last_order,
        customers.tenure_days,
        customers.platforms_used,
        customers.platform_count,
        customers.first_platform,
        customers.last_platform,
        contacts.account_count,
        customers.order_count,
        customers.total_revenue,
        customers.average_order_value,
        customers.favourite_category,
        customers.dominant_category_type,
        customers.last_sku,
        customers.last_category,
        customers.discounted_order_count,
        customers.discount_order_share,
        customers.returned_order_count,
        coalesce(return_facts.returned_line_count, 0) as returned_line_count,
        customers.last_order_returned,
        customers.average_delivery_days,
        customers.last_delivery_days,
        coalesce(ticket_facts.ticket_count, 0) as ticket_count,
        coalesce(ticket_facts.complaint_count, 0) as complaint_count,
        coalesce(ticket_facts.open_complaint_count, 0) as open_complaint_count,
        coalesce(email_engagement.email_sends_recent, 0) as email_sends_recent,
        coalesce(email_engagement.email_opens_recent, 0) as email_opens_recent,
        coalesce(email_engagement.email_sends_prior, 0) as email_sends_prior,
        coalesce(email_engagement.email_opens_prior, 0) as email_opens_prior,
        coalesce(email_engagement.email_clicks_recent, 0) as email_clicks_recent,
        {{ retention.engagement_trend(
            'email_engagement.email_opens_recent', 'email_engagement.email_sends_recent',
            'email_engagement.email_opens_prior', 'email_engagement.email_sends_prior'
        ) }} as email_engagement_trend,
        email_engagement.last_email_open_at,
        coalesce(web_activity.web_sessions_last_30d, 0) as web_sessions_last_30d,
        coalesce(web_activity.abandoned_cart_count, 0) as abandoned_cart_count,
        web_activity.last_abandoned_cart_at,
        case
            when email_engagement.unsubscribed_at is not null
                and (
                    contacts.shopify_email_consent_at is null
                    or email_engagement.unsubscribed_at >= contacts.shopify_email_consent_at
                    or contacts.shopify_email_consent_state <> 'subscribed'
                )
                then 'unsubscribed'
            when contacts.shopify_email_consent_state in ('subscribed', 'unsubscribed', 'not_subscribed')
                then contacts.shopify_email_consent_state
            when contacts.shopify_email_consent_state = 'pending' then 'not_subscribed'
            else 'unknown'
        end as email_consent,
        email_engagement.unsubscribed_at,
        segments.lifecycle_stage,
        segments.is_churned,
        segments.churn_rule,
        segments.rfm_segment
    from customers
    left join contacts
        on customers.customer_id = contacts.customer_id
    left join countries
        on coalesce(contacts.country_code, customers.last_country_code) = countries.country_code
    left join email_engagement
        on customers.customer_id = email_engagement.customer_id
    left join web_activity
        on customers.customer_id = web_activity.customer_id
    left join ticket_facts
        on customers.customer_id = ticket_facts.customer_id
    left join return_facts
        on customers.customer_id = return_facts.customer_id
    left join segments
        on customers.customer_id = segments.customer_id
),

with_consent as (
    select
        *,
        case
            when email_consent = 'subscribed' then 'granted'
            when email_consent = 'unsubscribed' then 'denied'
            else 'unknown'
        end as ads_consent,
        email_consent = 'unsubscribed' as is_opted_out
    from final
)

select * from with_consent
