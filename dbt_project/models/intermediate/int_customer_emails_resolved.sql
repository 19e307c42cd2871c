-- Email address -> customer_id, to attribute email, web and support events that carry only
-- an address. An address can only belong to one person (it is a match key); a relay address
-- is used only when it belongs to exactly one person.

with

orders as (
    select * from {{ ref('int_orders_converted') }}
),

identities as (
    select * from {{ ref('int_customer_identities_resolved') }}
),

addresses as (
    select
        orders.email,
        max(case when orders.is_relay_email then 1 else 0 end) = 1 as is_relay_email,
        min(identities.customer_id) as customer_id,
        -- one person when the smallest and the largest customer_id agree: the same test as
        -- count(distinct ...) = 1, without DuckDB materialising the joined rows for it
        max(identities.customer_id) as last_customer_id
    from orders
    inner join identities
        on orders.account_id = identities.account_id
    where orders.email is not null
    group by orders.email
),

final as (
    select
        email,
        customer_id,
        is_relay_email
    from addresses
    where customer_id = last_customer_id
)

select * from final
