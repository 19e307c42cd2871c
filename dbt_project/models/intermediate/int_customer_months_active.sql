-- One row per customer and calendar month in which the customer was active on at least one
-- day (an activity spell overlaps the month), up to the as-of month, with the orders of the
-- month and the orders before it. The base of the monthly frequency series.
-- Incremental while the as-of date follows the data (a pinned as_of_date builds a plain
-- table): a nightly run rebuilds the customers whose orders or activity spells changed
-- (found by a fingerprint kept on their rows) and, when the as-of date enters a new month,
-- the customers still active in it; it deletes the customers that no longer have a spell.
-- The merge key is the customer, so a rebuilt customer's months are all replaced (a spell
-- that got shorter drops months).

{{ config(
    materialized=retention.incremental_unless_as_of_pinned(),
    unique_key='customer_id',
    post_hook="{{ retention.delete_keys_missing_from(this, 'customer_id', ref('int_customer_activity_spells')) }}",
) }}

with

spells as {{ retention.not_materialized() }} (
    select * from {{ ref('int_customer_activity_spells') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

as_of as {{ retention.not_materialized() }} (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

history_fingerprints as (
    -- one fingerprint over the customer's orders and spells (the columns read here)
    select
        customer_id,
        {{ retention.fingerprint(['row_key', 'first_date', 'second_date', 'amount']) }} as history_fingerprint
    from (
        select customer_id, order_id as row_key, ordered_date as first_date, cast(null as date) as second_date, order_amount as amount
        from orders

        union all

        select customer_id, spell_id, spell_start_date, spell_end_date, null
        from spells
    ) as history_rows
    group by customer_id
),

{% if is_incremental() -%}
changed_customers as (
    select history_fingerprints.customer_id
    from history_fingerprints
    left join (select distinct customer_id, history_fingerprint from {{ this }}) as built
        on history_fingerprints.customer_id = built.customer_id
    where built.customer_id is null
        or history_fingerprints.history_fingerprint is distinct from built.history_fingerprint

    union

    -- still active in a month that the as-of date has entered since the last build
    select spells.customer_id
    from spells
    cross join as_of
    where {{ retention.month_start('least(spells.spell_end_date, as_of.as_of_date)') }}
        > (select max(month_start) from {{ this }})
),

{% endif -%}
month_numbers as (
    {{ retention.integer_series(0, 240, 'month_offset') }}
),

first_month as (
    select min({{ retention.month_start('spell_start_date') }}) as first_month_start
    from spells
),

months as (
    select {{ retention.add_months('first_month.first_month_start', 'month_numbers.month_offset') }} as month_start
    from month_numbers
    cross join first_month
    cross join as_of
    where {{ retention.add_months('first_month.first_month_start', 'month_numbers.month_offset') }} <= as_of.as_of_date
),

spell_months as (
    select distinct
        spells.customer_id,
        months.month_start
    from spells
    cross join as_of
    inner join months
        on months.month_start >= {{ retention.month_start('spells.spell_start_date') }}
        and months.month_start <= least(spells.spell_end_date, as_of.as_of_date)
    {%- if is_incremental() %}
    where spells.customer_id in (select customer_id from changed_customers)
    {%- endif %}
),

monthly_orders as (
    select
        customer_id,
        {{ retention.month_start('ordered_date') }} as month_start,
        count(*) as orders,
        sum(order_amount) as revenue
    from orders
    {%- if is_incremental() %}
    where customer_id in (select customer_id from changed_customers)
    {%- endif %}
    group by customer_id, {{ retention.month_start('ordered_date') }}
),

joined as (
    select
        spell_months.customer_id,
        spell_months.month_start,
        coalesce(monthly_orders.orders, 0) as orders,
        coalesce(monthly_orders.revenue, 0) as revenue
    from spell_months
    left join monthly_orders
        on spell_months.customer_id = monthly_orders.customer_id
        and spell_months.month_start = monthly_orders.month_start
),

final as (
    select
        joined.customer_id || ':' || cast(joined.month_start as {{ retention.type_text() }}) as customer_month_id,
        joined.customer_id,
        joined.month_start,
        joined.orders,
        joined.revenue,
        coalesce(
            sum(joined.orders) over (
                partition by joined.customer_id order by joined.month_start rows between unbounded preceding and 1 preceding
            ),
            0
        ) as orders_before_month,
        history_fingerprints.history_fingerprint,
        {{ retention.build_started_at() }} as built_at
    from joined
    inner join history_fingerprints
        on joined.customer_id = history_fingerprints.customer_id
)

select * from final
