-- One row per order from every platform and the generic import, in one vocabulary, with
-- the identity attributes normalised for matching. All history: int_orders_converted
-- applies the as-of date.
-- Incremental: an order is rebuilt from all its staging rows (Amazon items, Walmart lines,
-- the Amazon API order) when any of them arrived since the last build; loaded_at is the
-- latest of them. After changing the country_codes seed, run a full refresh.

{{ config(materialized='incremental', unique_key='order_id') }}

{%- set platform_order_sources = [
    ('shopify', 'stg_shopify__orders'),
    ('amazon', 'stg_amazon__order_items'),
    ('amazon', 'stg_amazon__orders'),
    ('ebay', 'stg_ebay__orders'),
    ('walmart', 'stg_walmart__orders'),
    ('walmart', 'stg_walmart__order_lines'),
    ('generic', 'stg_generic__orders'),
] %}

{#- on an incremental run, only the orders of a platform with an arrived staging row -#}
{%- set changed_orders_of = {} %}
{%- for platform, model in platform_order_sources %}
    {%- do changed_orders_of.update({platform: (
        "\n    where order_id in (select platform_order_id from changed_orders where platform = '" ~ platform ~ "')"
    ) if is_incremental() else ''}) %}
{%- endfor %}

with

{% if is_incremental() -%}
changed_orders as (
    {%- for platform, model in platform_order_sources %}
    select '{{ platform }}' as platform, order_id as platform_order_id
    from {{ ref(model) }}
    where {{ retention.arrived_since_last_build() }}
    {% if not loop.last %}union{% endif %}
    {%- endfor %}
),

{% endif -%}

shopify_orders as (
    select * from {{ ref('stg_shopify__orders') }}{{ changed_orders_of['shopify'] }}
),

amazon_order_items as {{ retention.not_materialized() }} (
    select * from {{ ref('stg_amazon__order_items') }}{{ changed_orders_of['amazon'] }}
),

amazon_api_orders as (
    select * from {{ ref('stg_amazon__orders') }}{{ changed_orders_of['amazon'] }}
),

ebay_orders as (
    select * from {{ ref('stg_ebay__orders') }}{{ changed_orders_of['ebay'] }}
),

walmart_orders as (
    select * from {{ ref('stg_walmart__orders') }}{{ changed_orders_of['walmart'] }}
),

walmart_order_lines as (
    select * from {{ ref('stg_walmart__order_lines') }}{{ changed_orders_of['walmart'] }}
),

generic_orders as (
    select * from {{ ref('stg_generic__orders') }}{{ changed_orders_of['generic'] }}
),

countries as (
    select * from {{ ref('country_codes') }}
),

shopify as (
    select
        'shopify' as platform,
        order_id as platform_order_id,
        -- guest checkouts have no customer: the order is its own account
        coalesce(shopify_customer_id, 'order-' || order_id) as platform_customer_key,
        email as email_raw,
        phone as phone_raw,
        first_name,
        last_name,
        trim(concat_ws(' ', first_name, last_name)) as full_name,
        shipping_city as city,
        shipping_state as state,
        shipping_postal_code as postal_code,
        shipping_country_code as country_code,
        ordered_at,
        updated_at,
        currency,
        total_amount as order_amount,
        discount_amount,
        shipping_amount,
        has_discount,
        discount_code,
        is_cancelled,
        refund_count > 0 as has_refund,
        email_consent_state,
        email_consent_updated_at,
        loaded_at
    from shopify_orders
),

amazon as (
    select
        'amazon' as platform,
        order_id as platform_order_id,
        -- no buyer id in the report; the relay address is per buyer and seller, the name
        -- keeps two people apart should they ever share one
        coalesce(
            lower(max(buyer_email)) || '|' || coalesce({{ retention.normalize_name('max(buyer_name)') }}, ''),
            'order-' || order_id
        ) as platform_customer_key,
        max(buyer_email) as email_raw,
        cast(null as {{ retention.type_text() }}) as phone_raw,
        cast(null as {{ retention.type_text() }}) as first_name,
        cast(null as {{ retention.type_text() }}) as last_name,
        max(buyer_name) as full_name,
        max(shipping_city) as city,
        max(shipping_state) as state,
        max(shipping_postal_code) as postal_code,
        max(shipping_country_code) as country_code,
        min(ordered_at) as ordered_at,
        max(updated_at) as updated_at,
        max(currency) as currency,
        cast(sum(item_amount + tax_amount + shipping_amount - discount_amount) as decimal(18, 2)) as order_amount,
        cast(sum(discount_amount) as decimal(18, 2)) as discount_amount,
        cast(sum(shipping_amount) as decimal(18, 2)) as shipping_amount,
        sum(discount_amount) > 0 as has_discount,
        cast(null as {{ retention.type_text() }}) as discount_code,
        min(case when is_cancelled then 1 else 0 end) = 1 as is_cancelled,
        false as has_refund,
        cast(null as {{ retention.type_text() }}) as email_consent_state,
        cast(null as timestamp) as email_consent_updated_at,
        max(loaded_at) as loaded_at
    from amazon_order_items
    group by order_id
),

reported_amazon_orders as (
    select distinct order_id
    from amazon_order_items
),

amazon_api as (
    -- orders from the getOrders API (api mode) that the order report does not have
    select
        'amazon' as platform,
        amazon_api_orders.order_id as platform_order_id,
        coalesce(
            lower(amazon_api_orders.buyer_email) || '|' || coalesce({{ retention.normalize_name('amazon_api_orders.buyer_name') }}, ''),
            'order-' || amazon_api_orders.order_id
        ) as platform_customer_key,
        amazon_api_orders.buyer_email as email_raw,
        amazon_api_orders.phone as phone_raw,
        cast(null as {{ retention.type_text() }}) as first_name,
        cast(null as {{ retention.type_text() }}) as last_name,
        amazon_api_orders.buyer_name as full_name,
        amazon_api_orders.shipping_city as city,
        amazon_api_orders.shipping_state as state,
        amazon_api_orders.shipping_postal_code as postal_code,
        amazon_api_orders.shipping_country_code as country_code,
        amazon_api_orders.ordered_at,
        amazon_api_orders.updated_at,
        amazon_api_orders.currency,
        amazon_api_orders.total_amount as order_amount,
        cast(0 as decimal(18, 2)) as discount_amount,
        cast(0 as decimal(18, 2)) as shipping_amount,
        false as has_discount,
        cast(null as {{ retention.type_text() }}) as discount_code,
        amazon_api_orders.is_cancelled,
        false as has_refund,
        cast(null as {{ retention.type_text() }}) as email_consent_state,
        cast(null as timestamp) as email_consent_updated_at,
        amazon_api_orders.loaded_at
    from amazon_api_orders
    left join reported_amazon_orders
        on amazon_api_orders.order_id = reported_amazon_orders.order_id
    where reported_amazon_orders.order_id is null
),

ebay as (
    select
        'ebay' as platform,
        order_id as platform_order_id,
        coalesce(buyer_username, 'order-' || order_id) as platform_customer_key,
        email as email_raw,
        phone as phone_raw,
        cast(null as {{ retention.type_text() }}) as first_name,
        cast(null as {{ retention.type_text() }}) as last_name,
        full_name,
        city,
        state,
        postal_code,
        country_code,
        ordered_at,
        updated_at,
        currency,
        total_amount as order_amount,
        discount_amount,
        shipping_amount,
        discount_amount > 0 as has_discount,
        cast(null as {{ retention.type_text() }}) as discount_code,
        is_cancelled,
        refund_count > 0 as has_refund,
        cast(null as {{ retention.type_text() }}) as email_consent_state,
        cast(null as timestamp) as email_consent_updated_at,
        loaded_at
    from ebay_orders
),

walmart_totals as (
    select
        order_id,
        max(currency) as currency,
        sum(product_amount + shipping_amount + tax_amount - discount_amount) as order_amount,
        sum(discount_amount) as discount_amount,
        sum(shipping_amount) as shipping_amount,
        max(status_at) as updated_at,
        min(case when line_status = 'cancelled' then 1 else 0 end) = 1 as is_cancelled,
        max(loaded_at) as loaded_at
    from walmart_order_lines
    group by order_id
),

walmart as (
    select
        'walmart' as platform,
        walmart_orders.order_id as platform_order_id,
        coalesce(
            lower(walmart_orders.customer_email) || '|' || coalesce({{ retention.normalize_name('walmart_orders.full_name') }}, ''),
            'order-' || walmart_orders.order_id
        ) as platform_customer_key,
        walmart_orders.customer_email as email_raw,
        walmart_orders.phone as phone_raw,
        cast(null as {{ retention.type_text() }}) as first_name,
        cast(null as {{ retention.type_text() }}) as last_name,
        walmart_orders.full_name,
        walmart_orders.city,
        walmart_orders.state,
        walmart_orders.postal_code,
        walmart_orders.country_code,
        walmart_orders.ordered_at,
        walmart_totals.updated_at,
        coalesce(walmart_totals.currency, 'USD') as currency,
        cast(coalesce(walmart_totals.order_amount, 0) as decimal(18, 2)) as order_amount,
        cast(coalesce(walmart_totals.discount_amount, 0) as decimal(18, 2)) as discount_amount,
        cast(coalesce(walmart_totals.shipping_amount, 0) as decimal(18, 2)) as shipping_amount,
        coalesce(walmart_totals.discount_amount, 0) > 0 as has_discount,
        cast(null as {{ retention.type_text() }}) as discount_code,
        coalesce(walmart_totals.is_cancelled, false) as is_cancelled,
        false as has_refund,
        cast(null as {{ retention.type_text() }}) as email_consent_state,
        cast(null as timestamp) as email_consent_updated_at,
        greatest(walmart_orders.loaded_at, coalesce(walmart_totals.loaded_at, walmart_orders.loaded_at)) as loaded_at
    from walmart_orders
    left join walmart_totals
        on walmart_orders.order_id = walmart_totals.order_id
),

generic as (
    select
        'generic' as platform,
        order_id as platform_order_id,
        customer_key as platform_customer_key,
        email as email_raw,
        cast(null as {{ retention.type_text() }}) as phone_raw,
        cast(null as {{ retention.type_text() }}) as first_name,
        cast(null as {{ retention.type_text() }}) as last_name,
        cast(null as {{ retention.type_text() }}) as full_name,
        cast(null as {{ retention.type_text() }}) as city,
        cast(null as {{ retention.type_text() }}) as state,
        cast(null as {{ retention.type_text() }}) as postal_code,
        country_code,
        ordered_at,
        cast(null as timestamp) as updated_at,
        currency,
        total_amount as order_amount,
        cast(0 as decimal(18, 2)) as discount_amount,
        cast(0 as decimal(18, 2)) as shipping_amount,
        false as has_discount,
        cast(null as {{ retention.type_text() }}) as discount_code,
        false as is_cancelled,
        false as has_refund,
        cast(null as {{ retention.type_text() }}) as email_consent_state,
        cast(null as timestamp) as email_consent_updated_at,
        loaded_at
    from generic_orders
),

unioned as (
    select * from shopify
    union all
    select * from amazon
    union all
    select * from amazon_api
    union all
    select * from ebay
    union all
    select * from walmart
    union all
    select * from generic
),

normalized as (
    select
        unioned.platform || ':' || unioned.platform_order_id as order_id,
        unioned.platform,
        unioned.platform_order_id,
        unioned.platform || ':' || unioned.platform_customer_key as account_id,
        unioned.platform_customer_key,
        {{ retention.normalize_email('unioned.email_raw') }} as email,
        {{ retention.is_relay_email(retention.normalize_email('unioned.email_raw')) }} as is_relay_email,
        unioned.phone_raw as phone,
        {{ retention.normalize_phone_e164(
            'unioned.phone_raw', 'countries.calling_code', 'countries.international_prefix', 'countries.trunk_prefix'
        ) }} as phone_e164,
        coalesce(unioned.first_name, split_part(unioned.full_name, ' ', 1)) as first_name,
        coalesce(
            unioned.last_name,
            nullif(trim(substr(unioned.full_name, length(split_part(unioned.full_name, ' ', 1)) + 1)), '')
        ) as last_name,
        nullif(unioned.full_name, '') as full_name,
        {{ retention.normalize_name('unioned.full_name') }} as name_normalized,
        unioned.city,
        unioned.state,
        unioned.postal_code,
        {{ retention.normalize_postal_code('unioned.postal_code') }} as postal_code_normalized,
        unioned.country_code,
        countries.region,
        unioned.ordered_at,
        unioned.updated_at,
        unioned.currency,
        unioned.order_amount,
        unioned.discount_amount,
        unioned.shipping_amount,
        unioned.has_discount or unioned.discount_amount > 0 as has_discount,
        unioned.discount_code,
        unioned.is_cancelled,
        unioned.has_refund,
        unioned.email_consent_state,
        unioned.email_consent_updated_at,
        unioned.loaded_at,
        {{ retention.build_started_at() }} as built_at
    from unioned
    left join countries
        on unioned.country_code = countries.country_code
)

select * from normalized
