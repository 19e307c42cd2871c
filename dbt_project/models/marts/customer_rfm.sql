-- F10 RFM, one row per customer at the as-of date. R and M are quintiles (5 = most recent /
-- highest spend); F uses fixed order-count cut points (var rfm_frequency_cut_points) because
-- most customers buy once and quintiles of a mostly-1 count say nothing. The segment comes
-- from R and FM = round((F + M) / 2) through the 5 x 5 grid documented in the yml.

with

customers as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

scored as (
    select
        customer_id,
        days_since_last_order as recency_days,
        order_count as frequency,
        total_revenue as monetary,
        ntile(5) over (order by days_since_last_order desc, customer_id asc) as r_score,
        {{ retention.rfm_frequency_score('order_count') }} as f_score,
        ntile(5) over (order by total_revenue, customer_id) as m_score
    from customers
),

combined as (
    select
        *,
        cast(floor((f_score + m_score) / 2.0 + 0.5) as integer) as fm_score
    from scored
),

final as (
    select
        customer_id,
        recency_days,
        frequency,
        monetary,
        r_score,
        f_score,
        m_score,
        fm_score,
        cast(r_score as {{ retention.type_text() }})
        || cast(f_score as {{ retention.type_text() }})
        || cast(m_score as {{ retention.type_text() }}) as rfm_cell,
        case
            when r_score = 5 and fm_score = 1 then 'New'
            when r_score = 5 and fm_score in (2, 3) then 'Potential Loyalist'
            when r_score = 5 then 'Champions'
            when r_score = 4 and fm_score = 1 then 'Promising'
            when r_score = 4 and fm_score = 2 then 'Potential Loyalist'
            when r_score = 4 and fm_score = 3 then 'Loyal'
            when r_score = 4 then 'Champions'
            when r_score = 3 and fm_score = 1 then 'About to Sleep'
            when r_score = 3 and fm_score in (2, 3) then 'Need Attention'
            when r_score = 3 then 'Loyal'
            when r_score = 2 and fm_score in (1, 2) then 'Hibernating'
            when r_score = 2 then 'At Risk'
            when fm_score in (1, 2) then 'Lost'
            when fm_score = 3 then 'At Risk'
            else 'Can''t Lose Them'
        end as rfm_segment
    from combined
)

select * from final
