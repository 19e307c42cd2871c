-- Every order's revenue lands on exactly one customer: the 360 profile and the order fact
-- agree on orders and revenue per customer.
with

from_orders as (
    select
        customer_id,
        count(*) as order_count,
        sum(order_amount) as revenue
    from {{ ref('fct_orders') }}
    where not is_cancelled
    group by customer_id
)

select
    from_orders.customer_id,
    from_orders.order_count,
    dim_customers.order_count as dim_order_count,
    from_orders.revenue,
    dim_customers.total_revenue
from from_orders
full outer join {{ ref('dim_customers') }} as dim_customers
    on from_orders.customer_id = dim_customers.customer_id
where from_orders.customer_id is null
    or dim_customers.customer_id is null
    or from_orders.order_count <> dim_customers.order_count
    or abs(coalesce(from_orders.revenue, 0) - coalesce(dim_customers.total_revenue, 0)) > 0.01
