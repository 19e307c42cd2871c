-- F15 campaign impact on purchase frequency: for each email campaign, the customers who
-- received it (exposed) against comparable customers who did not (control). Both groups
-- are customers on the email list at the time of the send, i.e. who received an earlier
-- and a later campaign (the same condition for both, so that newly listed or departing
-- customers do not bias either side), acquired before the send. Each group's orders per
-- customer in the campaign_window_days before and after the send, and the difference in
-- differences. is_window_complete is false while the after-window is still running.

{%- set window = var('campaign_window_days') | int %}

with

email_events as {{ retention.not_materialized() }} (
    select * from {{ ref('int_email_events_attributed') }}
    where customer_id is not null
),

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

sends as (
    select distinct
        campaign_id,
        customer_id,
        occurred_date as sent_date
    from email_events
    where event_type = 'send'
        and campaign_id is not null
),

campaigns as (
    select
        email_events.campaign_id,
        max(email_events.campaign_name) as campaign_name,
        min(email_events.occurred_date) as sent_date
    from email_events
    where email_events.event_type = 'send'
        and email_events.campaign_id is not null
    group by email_events.campaign_id
),

list_spans as (
    -- on the list from the first to the last send the customer received
    select
        customer_id,
        min(sent_date) as first_send_date,
        max(sent_date) as last_send_date
    from sends
    group by customer_id
),

eligible as {{ retention.materialized() }} (
    select
        campaigns.campaign_id,
        campaigns.sent_date,
        list_spans.customer_id,
        case when sends.customer_id is not null then 'exposed' else 'control' end as test_group
    from campaigns
    inner join list_spans
        on list_spans.first_send_date < campaigns.sent_date
        and list_spans.last_send_date > campaigns.sent_date
    inner join customers
        on list_spans.customer_id = customers.customer_id
        and customers.first_order_date < campaigns.sent_date
    left join sends
        on campaigns.campaign_id = sends.campaign_id
        and list_spans.customer_id = sends.customer_id
),

window_orders as (
    select
        eligible.campaign_id,
        eligible.customer_id,
        sum(case when orders.ordered_date < eligible.sent_date then 1 else 0 end) as orders_before,
        sum(case when orders.ordered_date >= eligible.sent_date then 1 else 0 end) as orders_after
    from eligible
    inner join orders
        on eligible.customer_id = orders.customer_id
        and orders.ordered_date >= {{ retention.add_days('eligible.sent_date', -window) }}
        and orders.ordered_date < {{ retention.add_days('eligible.sent_date', window) }}
    group by eligible.campaign_id, eligible.customer_id
),

group_totals as (
    select
        eligible.campaign_id,
        eligible.test_group,
        count(*) as customers,
        sum(coalesce(window_orders.orders_before, 0)) as orders_before,
        sum(coalesce(window_orders.orders_after, 0)) as orders_after
    from eligible
    left join window_orders
        on eligible.campaign_id = window_orders.campaign_id
        and eligible.customer_id = window_orders.customer_id
    group by eligible.campaign_id, eligible.test_group
),

pivoted as (
    select
        campaign_id,
        sum(case when test_group = 'exposed' then customers else 0 end) as exposed_customers,
        sum(case when test_group = 'exposed' then orders_before else 0 end) as exposed_orders_before,
        sum(case when test_group = 'exposed' then orders_after else 0 end) as exposed_orders_after,
        sum(case when test_group = 'control' then customers else 0 end) as control_customers,
        sum(case when test_group = 'control' then orders_before else 0 end) as control_orders_before,
        sum(case when test_group = 'control' then orders_after else 0 end) as control_orders_after
    from group_totals
    group by campaign_id
),

rated as (
    select
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.sent_date,
        {{ window }} as window_days,
        {{ retention.add_days('campaigns.sent_date', window) }} <= as_of.as_of_date as is_window_complete,
        coalesce(pivoted.exposed_customers, 0) as exposed_customers,
        coalesce(pivoted.control_customers, 0) as control_customers,
        coalesce(pivoted.exposed_orders_before, 0) as exposed_orders_before,
        coalesce(pivoted.exposed_orders_after, 0) as exposed_orders_after,
        coalesce(pivoted.control_orders_before, 0) as control_orders_before,
        coalesce(pivoted.control_orders_after, 0) as control_orders_after,
        {{ retention.safe_divide('pivoted.exposed_orders_before', 'pivoted.exposed_customers') }} as exposed_orders_per_customer_before,
        {{ retention.safe_divide('pivoted.exposed_orders_after', 'pivoted.exposed_customers') }} as exposed_orders_per_customer_after,
        {{ retention.safe_divide('pivoted.control_orders_before', 'pivoted.control_customers') }} as control_orders_per_customer_before,
        {{ retention.safe_divide('pivoted.control_orders_after', 'pivoted.control_customers') }} as control_orders_per_customer_after
    from campaigns
    cross join as_of
    left join pivoted
        on campaigns.campaign_id = pivoted.campaign_id
),

final as (
    select
        campaign_id,
        campaign_name,
        sent_date,
        window_days,
        is_window_complete,
        exposed_customers,
        control_customers,
        exposed_orders_before,
        exposed_orders_after,
        control_orders_before,
        control_orders_after,
        round(exposed_orders_per_customer_before, 5) as exposed_orders_per_customer_before,
        round(exposed_orders_per_customer_after, 5) as exposed_orders_per_customer_after,
        round(control_orders_per_customer_before, 5) as control_orders_per_customer_before,
        round(control_orders_per_customer_after, 5) as control_orders_per_customer_after,
        round(exposed_orders_per_customer_after - exposed_orders_per_customer_before, 5) as exposed_change,
        round(control_orders_per_customer_after - control_orders_per_customer_before, 5) as control_change,
        round(
            (exposed_orders_per_customer_after - exposed_orders_per_customer_before)
            - (control_orders_per_customer_after - control_orders_per_customer_before),
            5
        ) as difference_in_differences,
        round(exposed_orders_per_customer_after / nullif(control_orders_per_customer_after, 0) - 1, 4)
            as after_window_lift
    from rated
)

select * from final
