-- Per customer: the order history up to the as-of date in one row (cancelled orders do not
-- count). The base of dim_customers, RFM, segments and the churn analysis.
-- Incremental while the as-of date follows the data (a pinned as_of_date builds a plain
-- table): a nightly run rebuilds the customers of the orders and lines fct_orders and
-- fct_order_lines wrote since this table's last build (built_at; fct_orders rewrites every
-- order of a customer whose orders changed, and of the customer an order left), deletes the
-- customers that no longer have an order (merged away, cancelled), and moves the two columns
-- relative to the as-of date forward for everyone.

{{ config(
    materialized=retention.incremental_unless_as_of_pinned(),
    unique_key='customer_id',
    post_hook=[
        "{{ retention.delete_keys_missing_from(this, 'customer_id', ref('fct_orders'), 'not is_cancelled') }}",
        "update {{ this }} set
            days_since_last_order = {{ retention.days_between('last_ordered_at', '(select as_of_date from ' ~ ref('int_as_of_dates_resolved') ~ ')') }},
            tenure_days = {{ retention.days_between('first_ordered_at', '(select as_of_date from ' ~ ref('int_as_of_dates_resolved') ~ ')') }}",
    ],
) }}

with

orders as {{ retention.not_materialized() }} (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
    where not is_cancelled
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

{% if is_incremental() -%}
changed_customers as (
    select customer_id
    from {{ ref('fct_orders') }}
    where {{ retention.arrived_since_last_build('built_at', watermark='built_at') }}

    union

    select customer_id
    from {{ ref('fct_order_lines') }}
    where {{ retention.arrived_since_last_build('built_at', watermark='built_at') }}
),

{% endif -%}
order_facts as (
    select
        customer_id,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at,
        count(*) as order_count,
        count(distinct ordered_date) as purchase_day_count,
        sum(order_amount) as total_revenue,
        sum(discount_amount) as total_discount,
        sum(case when has_discount then 1 else 0 end) as discounted_order_count,
        sum(case when is_returned then 1 else 0 end) as returned_order_count,
        sum(case when is_long_delivery then 1 else 0 end) as long_delivery_order_count,
        avg(delivery_days) as average_delivery_days,
        {%- for platform in retention.platforms() %}
        max(case when platform = '{{ platform }}' then 1 else 0 end) as uses_{{ platform }},
        {%- endfor %}
        {{ retention.arg_min('platform', 'ordered_at') }} as first_platform
    from orders
    {%- if is_incremental() %}
    where customer_id in (select customer_id from changed_customers)
    {%- endif %}
    group by customer_id
),

last_orders as (
    select
        customer_id,
        order_id as last_order_id,
        platform as last_platform,
        order_amount as last_order_amount,
        has_discount as last_order_has_discount,
        primary_sku as last_sku,
        primary_category as last_category,
        delivery_days as last_delivery_days,
        delivery_time_bucket as last_delivery_time_bucket,
        is_returned as last_order_returned,
        country_code as last_country_code,
        region as last_region
    from (
        select
            *,
            row_number() over (partition by customer_id order by ordered_at desc, order_id desc) as recency_rank
        from orders
        {%- if is_incremental() %}
        where customer_id in (select customer_id from changed_customers)
        {%- endif %}
    ) as ranked
    where recency_rank = 1
),

category_revenue as (
    select
        customer_id,
        category,
        category_type,
        sum(line_amount) as revenue,
        sum(quantity) as quantity
    from order_lines
    where category is not null
    {%- if is_incremental() %}
        and customer_id in (select customer_id from changed_customers)
    {%- endif %}
    group by customer_id, category, category_type
),

favourite_categories as (
    select
        customer_id,
        category as favourite_category
    from (
        select
            *,
            row_number() over (partition by customer_id order by quantity desc, revenue desc, category asc) as category_rank
        from category_revenue
    ) as ranked
    where category_rank = 1
),

dominant_category_types as (
    select
        customer_id,
        category_type as dominant_category_type
    from (
        select
            customer_id,
            category_type,
            row_number() over (partition by customer_id order by sum(revenue) desc, category_type) as type_rank
        from category_revenue
        where category_type is not null
        group by customer_id, category_type
    ) as ranked
    where type_rank = 1
),

final as (
    select
        order_facts.customer_id,
        order_facts.first_ordered_at,
        order_facts.last_ordered_at,
        cast(order_facts.first_ordered_at as date) as first_order_date,
        cast(order_facts.last_ordered_at as date) as last_order_date,
        {{ retention.days_between('order_facts.last_ordered_at', 'as_of.as_of_date') }} as days_since_last_order,
        {{ retention.days_between('order_facts.first_ordered_at', 'as_of.as_of_date') }} as tenure_days,
        order_facts.order_count,
        order_facts.purchase_day_count,
        order_facts.total_revenue,
        cast(order_facts.total_revenue / order_facts.order_count as decimal(18, 2)) as average_order_value,
        order_facts.total_discount,
        order_facts.discounted_order_count,
        {{ retention.safe_divide('order_facts.discounted_order_count', 'order_facts.order_count') }} as discount_order_share,
        order_facts.returned_order_count,
        order_facts.long_delivery_order_count,
        order_facts.average_delivery_days,
        {{ retention.platform_list('order_facts.uses_') }} as platforms_used,
        {{ retention.platform_count('order_facts.uses_') }} as platform_count,
        order_facts.first_platform,
        last_orders.last_order_id,
        last_orders.last_platform,
        last_orders.last_order_amount,
        last_orders.last_order_has_discount,
        last_orders.last_sku,
        last_orders.last_category,
        last_orders.last_delivery_days,
        last_orders.last_delivery_time_bucket,
        last_orders.last_order_returned,
        last_orders.last_country_code,
        last_orders.last_region,
        favourite_categories.favourite_category,
        dominant_category_types.dominant_category_type,
        {{ retention.build_started_at() }} as built_at
    from order_facts
    cross join as_of
    left join last_orders
        on order_facts.customer_id = last_orders.customer_id
    left join favourite_categories
        on order_facts.customer_id = favourite_categories.customer_id
    left join dominant_category_types
        on order_facts.customer_id = dominant_category_types.customer_id
)

select * from final
