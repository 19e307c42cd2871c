-- F15 monthly purchase frequency per segment: orders per active customer (customers active
-- on at least one day of the month, see int_customer_activity_spells) with the change on
-- the month before and on the same month a year earlier. Segment types:
-- * all: every customer;
-- * lifecycle_stage: the stage at the start of the month (new: at most one order before
--   it, repeat: 2 to loyal_min_orders - 1, loyal: more), so it is point in time;
-- * rfm_segment, region: the customer's current (as-of) RFM segment and region.
-- The as-of month is partial (is_complete_month = false); alerts compare complete months.

with

months_active as (
    select * from {{ ref('int_customer_months_active') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

labelled as (
    select
        months_active.month_start,
        months_active.orders,
        case
            when months_active.orders_before_month >= {{ var('loyal_min_orders') }} then 'loyal'
            when months_active.orders_before_month >= 2 then 'repeat'
            else 'new'
        end as lifecycle_stage,
        customers.rfm_segment,
        customers.region
    from months_active
    inner join customers
        on months_active.customer_id = customers.customer_id
),

segmented as (
    select
        'all' as segment_type,
        'all' as segment,
        month_start,
        orders
    from labelled
    union all
    select
        'lifecycle_stage' as segment_type,
        lifecycle_stage as segment,
        month_start,
        orders
    from labelled
    union all
    select
        'rfm_segment' as segment_type,
        rfm_segment as segment,
        month_start,
        orders
    from labelled
    union all
    select
        'region' as segment_type,
        region as segment,
        month_start,
        orders
    from labelled
),

aggregated as (
    select
        segment_type,
        segment,
        month_start,
        count(*) as active_customers,
        sum(case when orders > 0 then 1 else 0 end) as ordering_customers,
        sum(orders) as orders,
        {{ retention.safe_divide('sum(orders)', 'count(*)') }} as orders_per_active_customer
    from segmented
    group by segment_type, segment, month_start
),

compared as (
    select
        current_month.segment_type || ':' || current_month.segment || ':' || cast(current_month.month_start as {{ retention.type_text() }})
            as segment_month_id,
        current_month.segment_type,
        current_month.segment,
        current_month.month_start,
        current_month.month_start
        <= {{ retention.add_months(retention.month_start('as_of.as_of_date'), -1) }}
        or as_of.as_of_date = {{ retention.add_days(retention.add_months(retention.month_start('as_of.as_of_date'), 1), -1) }}
            as is_complete_month,
        current_month.active_customers,
        current_month.ordering_customers,
        current_month.orders,
        round(current_month.orders_per_active_customer, 4) as orders_per_active_customer,
        round(previous_month.orders_per_active_customer, 4) as previous_month_orders_per_active_customer,
        round(current_month.orders_per_active_customer / nullif(previous_month.orders_per_active_customer, 0) - 1, 4)
            as mom_change,
        round(last_year.orders_per_active_customer, 4) as same_month_last_year_orders_per_active_customer,
        round(current_month.orders_per_active_customer / nullif(last_year.orders_per_active_customer, 0) - 1, 4)
            as yoy_change
    from aggregated as current_month
    cross join as_of
    left join aggregated as previous_month
        on current_month.segment_type = previous_month.segment_type
        and current_month.segment = previous_month.segment
        and previous_month.month_start = {{ retention.add_months('current_month.month_start', -1) }}
    left join aggregated as last_year
        on current_month.segment_type = last_year.segment_type
        and current_month.segment = last_year.segment
        and last_year.month_start = {{ retention.add_months('current_month.month_start', -12) }}
)

select * from compared
