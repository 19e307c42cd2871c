-- F17 product repurchase, one row per product (SKU): how many of its buyers bought it again
-- (on another day), the typical days between two purchases of it, the same for its
-- category, its return rate, and the product repeat buyers of it most often also buy.

with

order_lines as {{ retention.not_materialized() }} (
    select * from {{ ref('fct_order_lines') }}
    where not is_cancelled
        and sku is not null
),

products as (
    select * from {{ ref('stg_catalog__products') }}
),

customer_product_days as (
    select
        customer_id,
        sku,
        max(category) as category,
        ordered_date,
        sum(quantity) as quantity,
        sum(line_amount) as revenue,
        max(case when is_returned then 1 else 0 end) as was_returned
    from order_lines
    group by customer_id, sku, ordered_date
),

customer_products as (
    select
        customer_id,
        sku,
        max(category) as category,
        count(*) as purchase_days,
        sum(quantity) as quantity,
        sum(revenue) as revenue
    from customer_product_days
    group by customer_id, sku
),

product_cycles as (
    -- days between two purchase days of a product, for the customers who bought it on two
    -- or more days: the others have no interval. Most (customer, product) pairs are bought
    -- once, so at 1M customers the window sorts 0.8M rows instead of 2.9M (1.0 s instead of 1.4 s
    -- for the model)
    select
        customer_product_days.customer_id,
        customer_product_days.sku,
        customer_product_days.ordered_date,
        customer_products.category,
        {{ retention.days_between(
            'lag(customer_product_days.ordered_date) over ('
            ~ 'partition by customer_product_days.customer_id, customer_product_days.sku '
            ~ 'order by customer_product_days.ordered_date)',
            'customer_product_days.ordered_date'
        ) }} as days_since_previous_purchase
    from customer_product_days
    inner join customer_products
        on customer_product_days.customer_id = customer_products.customer_id
        and customer_product_days.sku = customer_products.sku
    where customer_products.purchase_days >= 2
),

product_stats as (
    select
        sku,
        max(category) as category,
        count(*) as buyers,
        sum(case when purchase_days >= 2 then 1 else 0 end) as repeat_buyers,
        sum(purchase_days) as purchases,
        sum(quantity) as units,
        sum(revenue) as revenue
    from customer_products
    group by sku
),

product_cycle_stats as (
    select
        sku,
        {{ retention.median('days_since_previous_purchase') }} as median_repurchase_days,
        avg(days_since_previous_purchase) as mean_repurchase_days
    from product_cycles
    where days_since_previous_purchase is not null
    group by sku
),

category_stats as (
    select
        category,
        {{ retention.safe_divide('sum(case when purchase_days >= 2 then 1 else 0 end)', 'count(*)') }}
            as category_repurchase_rate
    from customer_products
    where category is not null
    group by category
),

category_cycle_stats as (
    -- product_cycles carries the category of its (customer, product) pair
    select
        category,
        {{ retention.median('days_since_previous_purchase') }} as category_median_repurchase_days
    from product_cycles
    where days_since_previous_purchase is not null
        and category is not null
    group by category
),

return_stats as (
    select
        sku,
        {{ retention.safe_divide('sum(case when is_returned then 1 else 0 end)', 'count(*)') }} as return_rate
    from order_lines
    group by sku
),

complements as (
    -- among the repeat buyers of a product, the other product most of them bought
    select
        repeaters.sku,
        others.sku as complementary_sku,
        count(*) as shared_buyers,
        row_number() over (partition by repeaters.sku order by count(*) desc, others.sku) as complement_rank
    from customer_products as repeaters
    inner join customer_products as others
        on repeaters.customer_id = others.customer_id
        and repeaters.sku <> others.sku
    where repeaters.purchase_days >= 2
    group by repeaters.sku, others.sku
),

final as (
    select
        product_stats.sku,
        products.product_name,
        coalesce(products.category, product_stats.category) as category,
        products.category_type,
        product_stats.buyers,
        product_stats.repeat_buyers,
        round({{ retention.safe_divide('product_stats.repeat_buyers', 'product_stats.buyers') }}, 4) as repurchase_rate,
        product_cycle_stats.median_repurchase_days,
        round(product_cycle_stats.mean_repurchase_days, 1) as mean_repurchase_days,
        product_stats.purchases,
        product_stats.units,
        product_stats.revenue,
        round(return_stats.return_rate, 4) as return_rate,
        round(category_stats.category_repurchase_rate, 4) as category_repurchase_rate,
        category_cycle_stats.category_median_repurchase_days,
        complements.complementary_sku,
        complements.shared_buyers as complementary_shared_buyers
    from product_stats
    left join products
        on product_stats.sku = products.sku
    left join product_cycle_stats
        on product_stats.sku = product_cycle_stats.sku
    left join return_stats
        on product_stats.sku = return_stats.sku
    left join category_stats
        on coalesce(products.category, product_stats.category) = category_stats.category
    left join category_cycle_stats
        on coalesce(products.category, product_stats.category) = category_cycle_stats.category
    left join complements
        on product_stats.sku = complements.sku
        and complements.complement_rank = 1
)

select * from final
