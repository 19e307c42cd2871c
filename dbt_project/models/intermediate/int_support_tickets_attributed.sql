-- Support tickets created up to the as-of date with their customer: through the order they
-- reference when there is one, else through the requester's address. Open means not
-- resolved by the as-of date.

with

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

orders as (
    select * from {{ ref('int_orders_converted') }}
),

identities as (
    select * from {{ ref('int_customer_identities_resolved') }}
),

emails as (
    select * from {{ ref('int_customer_emails_resolved') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

order_customers as (
    select
        orders.order_id,
        identities.customer_id
    from orders
    inner join identities
        on orders.account_id = identities.account_id
),

final as (
    select
        tickets.ticket_id,
        coalesce(order_customers.customer_id, emails.customer_id) as customer_id,
        case when order_customers.order_id is not null then tickets.platform || ':' || tickets.platform_order_id end
            as order_id,
        tickets.platform,
        tickets.topic,
        tickets.is_complaint,
        tickets.status,
        tickets.created_at,
        case when tickets.resolved_at < as_of.as_of_end_at then tickets.resolved_at end as resolved_at,
        tickets.resolved_at is null or tickets.resolved_at >= as_of.as_of_end_at as is_open,
        tickets.is_complaint and (tickets.resolved_at is null or tickets.resolved_at >= as_of.as_of_end_at)
            as is_open_complaint
    from tickets
    inner join as_of
        on tickets.created_at < as_of.as_of_end_at
    left join order_customers
        on tickets.platform || ':' || tickets.platform_order_id = order_customers.order_id
    left join emails
        on tickets.requester_email = emails.email
)

select * from final
