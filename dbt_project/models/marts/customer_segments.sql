-- F12 / F13: lifecycle stage, the named lifecycle segments and the churn status of every
-- customer at the as-of date, with the rule that decided it. Churn rules, most specific
-- first: the personal rule (at least personal_rule_min_orders purchase days: silent longer
-- than personal_interval_k x own mean interval, floored at personal_min_threshold_days),
-- then the category override for the customer's dominant category type
-- (category_churn_days), then the global threshold (churn_threshold_days or churn_preset).

{%- set global_days = retention.churn_base_threshold_days() %}

with

customers as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

intervals as (
    select * from {{ ref('customer_purchase_intervals') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
),

thresholds as (
    select
        customers.customer_id,
        customers.order_count,
        customers.purchase_day_count,
        customers.days_since_last_order,
        customers.dominant_category_type,
        intervals.mean_interval_days,
        intervals.is_frequency_declining,
        rfm.m_score,
        rfm.rfm_segment,
        {{ global_days }} as global_threshold_days,
        {{ retention.category_churn_days('customers.dominant_category_type') }} as category_threshold_days,
        case
            when customers.purchase_day_count >= {{ var('personal_rule_min_orders') }}
                and intervals.mean_interval_days > 0
                then cast(
                        ceil(greatest(
                            {{ var('personal_interval_k') }} * intervals.mean_interval_days,
                            {{ var('personal_min_threshold_days') }}
                        )) as integer
                    )
        end as personal_threshold_days
    from customers
    inner join intervals
        on customers.customer_id = intervals.customer_id
    inner join rfm
        on customers.customer_id = rfm.customer_id
),

decided as (
    select
        *,
        coalesce(personal_threshold_days, category_threshold_days, global_threshold_days) as churn_threshold_days,
        case
            when personal_threshold_days is not null then 'personal_interval'
            when category_threshold_days is not null then 'category_' || dominant_category_type
            else 'global'
        end as churn_rule,
        days_since_last_order > global_threshold_days as is_churned_global,
        case when category_threshold_days is not null then days_since_last_order > category_threshold_days end
            as is_churned_category,
        case when personal_threshold_days is not null then days_since_last_order > personal_threshold_days end
            as is_churned_personal
    from thresholds
),

staged as (
    select
        *,
        days_since_last_order > churn_threshold_days as is_churned,
        case
            when order_count >= {{ var('loyal_min_orders') }} then 'loyal'
            when order_count >= 2 then 'repeat'
            else 'new'
        end as order_stage
    from decided
),

final as (
    select
        customer_id,
        order_count,
        days_since_last_order,
        dominant_category_type,
        order_stage,
        case
            when is_churned then 'churned'
            -- lapsed: past half of the customer's own threshold without an order
            when days_since_last_order > churn_threshold_days / 2.0 then 'lapsed'
            else order_stage
        end as lifecycle_stage,
        case when is_churned then order_stage || '_churn' end as churn_type,
        is_churned,
        churn_rule,
        churn_threshold_days,
        global_threshold_days,
        category_threshold_days,
        personal_threshold_days,
        is_churned_global,
        is_churned_category,
        is_churned_personal,
        order_stage = 'loyal' and m_score >= {{ var('high_value_min_m_score') }} and not is_churned
            as is_high_value_loyal,
        -- used to buy more often than every wake_up_days days, silent for wake_up_days
        order_count >= 2
        and mean_interval_days < {{ var('wake_up_days') }}
        and days_since_last_order >= {{ var('wake_up_days') }} as needs_wake_up,
        order_count = 1 and not is_churned as is_new_one_order,
        is_frequency_declining,
        rfm_segment
    from staged
)

select * from final
