-- The one reference date of the build (var as_of_date, else the latest order date). Every
-- "current" metric is measured at the end of this day and nothing after it is used.

with

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

resolved as (
    {%- if retention.as_of_date_is_pinned() %}
    select cast('{{ var("as_of_date") }}' as date) as as_of_date
    {%- else %}
    select coalesce(max(cast(ordered_at as date)), current_date) as as_of_date
    from orders
    {%- endif %}
),

final as (
    select
        as_of_date,
        -- exclusive upper bound for event timestamps: the start of the next day
        cast({{ retention.add_days('as_of_date', 1) }} as timestamp) as as_of_end_at,
        '{{ var("reporting_currency") }}' as reporting_currency
    from resolved
)

select * from final
