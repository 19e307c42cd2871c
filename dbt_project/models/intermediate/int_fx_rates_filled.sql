-- FX rates for every currency and day from the first order or rate to the last: a day
-- without a published rate uses the last known one (days before the first rate use the
-- first). The US dollar is 1 even when the file does not list it. One row per currency and
-- day, so that orders find their rate by an equality join.

with

rates as {{ retention.not_materialized() }} (
    select * from {{ ref('stg_fx__rates') }}
    where usd_per_unit > 0
),

orders as {{ retention.not_materialized() }} (
    select * from {{ ref('int_orders_unioned') }}
),

with_dollar as (
    select
        currency,
        rate_date,
        usd_per_unit
    from rates
    union all
    select
        'USD' as currency,
        cast(min(orders.ordered_at) as date) as rate_date,
        cast(1 as decimal(24, 10)) as usd_per_unit
    from orders
    where not exists (
            select 1 from rates
            where rates.currency = 'USD'
        )
    having count(*) > 0
),

bounds as (
    select
        least(
            coalesce((select min(rate_date) from with_dollar), current_date),
            coalesce((select cast(min(ordered_at) as date) from orders), current_date)
        ) as first_date,
        greatest(
            coalesce((select max(rate_date) from with_dollar), current_date),
            coalesce((select cast(max(ordered_at) as date) from orders), current_date)
        ) as last_date
),

days as (
    {{ retention.date_series('(select first_date from bounds)', '(select last_date from bounds)', 'rate_date') }}
),

currencies as (
    select
        currency,
        min(rate_date) as first_rate_date
    from with_dollar
    group by currency
),

grid as (
    select
        currencies.currency,
        days.rate_date,
        currencies.first_rate_date
    from currencies
    cross join days
),

marked as (
    -- the date of the rate in force: the latest published rate on or before the day
    select
        grid.currency,
        grid.rate_date,
        coalesce(
            max(with_dollar.rate_date) over (
                partition by grid.currency order by grid.rate_date rows between unbounded preceding and current row
            ),
            grid.first_rate_date
        ) as source_rate_date
    from grid
    left join with_dollar
        on grid.currency = with_dollar.currency
        and grid.rate_date = with_dollar.rate_date
),

final as (
    select
        marked.currency || ':' || cast(marked.rate_date as {{ retention.type_text() }}) as fx_rate_id,
        marked.currency,
        marked.rate_date,
        marked.source_rate_date,
        marked.source_rate_date <> marked.rate_date as is_filled,
        with_dollar.usd_per_unit
    from marked
    inner join with_dollar
        on marked.currency = with_dollar.currency
        and marked.source_rate_date = with_dollar.rate_date
)

select * from final
