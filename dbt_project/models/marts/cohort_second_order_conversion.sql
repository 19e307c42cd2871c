-- F14 new-to-repeat conversion by acquisition cohort (month of the first order): the share
-- of the cohort's customers whose second order came within the expected window
-- (var second_order_window_days, else the median first-to-second-order gap of all
-- customers who have a second order). Customers acquired less than the window before the
-- as-of date cannot have converted yet: `conversion_rate` counts only customers whose
-- window is complete. `expected_conversion_rate` is the mean rate of the 12 cohorts before
-- whose windows are complete.

with

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

customers as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

second_orders as (
    select
        customer_id,
        ordered_date as second_order_date
    from orders
    where customer_order_number = 2
),

customer_gaps as (
    select
        customers.customer_id,
        customers.first_order_date,
        {{ retention.month_start('customers.first_order_date') }} as cohort_month,
        second_orders.second_order_date,
        {{ retention.days_between('customers.first_order_date', 'second_orders.second_order_date') }} as days_to_second_order
    from customers
    left join second_orders
        on customers.customer_id = second_orders.customer_id
),

expected_window as (
    {%- if var('second_order_window_days') is not none %}
    select cast({{ var('second_order_window_days') | int }} as integer) as window_days
    {%- else %}
    select cast(coalesce(round({{ retention.median('days_to_second_order') }}), 90) as integer) as window_days
    from customer_gaps
    {%- endif %}
),

cohorts as (
    select
        customer_gaps.cohort_month,
        max(expected_window.window_days) as window_days,
        count(*) as cohort_customers,
        sum(case when customer_gaps.second_order_date is not null then 1 else 0 end) as second_order_customers,
        sum(case when customer_gaps.days_to_second_order <= expected_window.window_days then 1 else 0 end)
            as converted_in_window_customers,
        sum(
            case
                when {{ retention.add_days('customer_gaps.first_order_date', 'expected_window.window_days') }} <= as_of.as_of_date
                    then 1
                else 0
            end
        ) as window_complete_customers,
        sum(
            case
                when {{ retention.add_days('customer_gaps.first_order_date', 'expected_window.window_days') }} <= as_of.as_of_date
                    and customer_gaps.days_to_second_order <= expected_window.window_days
                    then 1
                else 0
            end
        ) as window_complete_converted_customers,
        max(as_of.as_of_date) as as_of_date
    from customer_gaps
    cross join expected_window
    cross join as_of
    group by customer_gaps.cohort_month
),

rated as (
    select
        *,
        {{ retention.safe_divide('window_complete_converted_customers', 'window_complete_customers') }} as conversion_rate,
        window_complete_customers = cohort_customers as is_window_complete
    from cohorts
),

final as (
    select
        cohort_month,
        window_days as expected_window_days,
        cohort_customers,
        second_order_customers,
        round({{ retention.safe_divide('second_order_customers', 'cohort_customers') }}, 4) as second_order_rate_to_date,
        converted_in_window_customers,
        window_complete_customers,
        window_complete_converted_customers,
        round(conversion_rate, 4) as conversion_rate,
        is_window_complete,
        round(avg(case when is_window_complete then conversion_rate end) over (
            order by cohort_month rows between 12 preceding and 1 preceding
        ), 4) as expected_conversion_rate,
        round(
            conversion_rate
            - avg(case when is_window_complete then conversion_rate end) over (
                order by cohort_month rows between 12 preceding and 1 preceding
            ),
            4
        ) as conversion_rate_vs_expected
    from rated
)

select * from final
