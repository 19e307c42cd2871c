-- Orders up to the as-of date with money in the reporting currency (daily FX of the order
-- date, last known rate when the day has none).
-- Incremental while the as-of date follows the data: it then only moves forward and every
-- order is in scope, so a nightly run converts only the orders that arrived or changed since
-- the last build, any order the table does not have yet, and the orders whose rate changed
-- (a late FX file, another reporting currency). A pinned as_of_date builds a plain table.

{{ config(
    materialized=retention.incremental_unless_as_of_pinned(),
    unique_key='order_id',
) }}

with

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

fx_rates as (
    select * from {{ ref('int_fx_rates_filled') }}
),

-- local currency -> reporting currency per day, on the small rate table, so the orders
-- need one join instead of two
reporting_rates as (
    select
        order_rate.currency,
        order_rate.rate_date,
        cast(order_rate.usd_per_unit / reporting_rate.usd_per_unit as decimal(24, 10)) as fx_rate
    from fx_rates as order_rate
    inner join fx_rates as reporting_rate
        on reporting_rate.currency = '{{ var("reporting_currency") }}'
        and order_rate.rate_date = reporting_rate.rate_date
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

{% if is_incremental() -%}
built as {{ retention.not_materialized() }} (
    select order_id, currency, ordered_date, fx_rate from {{ this }}
),

rate_changed as (
    select built.order_id
    from built
    left join reporting_rates
        on built.currency = reporting_rates.currency
        and built.ordered_date = reporting_rates.rate_date
    where built.fx_rate is distinct from reporting_rates.fx_rate
),

{% endif -%}
in_scope as (
    select orders.*
    from orders
    inner join as_of
        on orders.ordered_at < as_of.as_of_end_at
    {%- if is_incremental() %}
    where {{ retention.arrived_since_last_build('orders.loaded_at') }}
        or not exists (select 1 from built where built.order_id = orders.order_id)
        or orders.order_id in (select order_id from rate_changed)
    {%- endif %}
),

converted as (
    select
        in_scope.*,
        cast(in_scope.ordered_at as date) as ordered_date,
        reporting_rates.fx_rate
    from in_scope
    left join reporting_rates
        on in_scope.currency = reporting_rates.currency
        and cast(in_scope.ordered_at as date) = reporting_rates.rate_date
),

final as (
    select
        order_id,
        platform,
        platform_order_id,
        account_id,
        platform_customer_key,
        email,
        is_relay_email,
        phone,
        phone_e164,
        first_name,
        last_name,
        full_name,
        name_normalized,
        city,
        state,
        postal_code,
        postal_code_normalized,
        country_code,
        region,
        ordered_at,
        ordered_date,
        updated_at,
        currency,
        has_discount,
        discount_code,
        is_cancelled,
        has_refund,
        email_consent_state,
        email_consent_updated_at,
        fx_rate,
        order_amount as order_amount_local,
        discount_amount as discount_amount_local,
        cast(order_amount * fx_rate as decimal(18, 2)) as order_amount,
        cast(discount_amount * fx_rate as decimal(18, 2)) as discount_amount,
        cast(shipping_amount * fx_rate as decimal(18, 2)) as shipping_amount,
        loaded_at,
        {{ retention.build_started_at() }} as built_at
    from converted
)

select * from final
