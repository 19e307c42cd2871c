-- Identity resolution (F8): one row per platform account with the person's customer_id.
-- Accounts are linked when they share a match key; people are the connected components of
-- that graph, found by label propagation: every account starts with its own id as label,
-- and each pass gives every key the smallest label of its accounts and every account the
-- smallest label of its keys. A chain A~B~C converges in two passes; var identity_max_passes
-- bounds the work (the singular test assert_identity_clusters_converged checks the result).
-- Only keys shared by two or more accounts take part, so the propagation runs on the few
-- accounts that are linked at all.
-- customer_id = 'c_' + md5(smallest account id of the person): it stays the same between
-- runs unless the person's cluster gains a smaller account or splits.

{%- set passes = var('identity_max_passes') | int %}

with

orders as (
    select * from {{ ref('int_orders_converted') }}
),

match_keys as {{ retention.not_materialized() }} (
    select * from {{ ref('int_identity_match_keys_extracted') }}
),

accounts as (
    -- platform and platform_customer_key make up account_id: grouping by all three costs
    -- less than taking their min() per account
    select
        account_id,
        platform,
        platform_customer_key,
        count(*) as order_count
    from orders
    group by account_id, platform, platform_customer_key
),

shared_keys as (
    -- only keys held by two or more accounts connect anything; the rest (most of them)
    -- are left out of the propagation, which keeps it small
    select match_key
    from match_keys
    group by match_key
    having count(*) > 1
),

-- accounts and shared keys numbered, the accounts in sort order: the smallest number is the
-- smallest account id, so the propagation runs on integers and maps back at the end (with
-- the key types below, the model took 2.3 s instead of 4.4 s at 1M customers)
linked_accounts as {{ retention.materialized() }} (
    select
        account_id,
        row_number() over (order by account_id) as account_number
    from (
        select distinct match_keys.account_id
        from match_keys
        inner join shared_keys
            on match_keys.match_key = shared_keys.match_key
    ) as linked
),

key_numbers as (
    select
        match_key,
        row_number() over (order by match_key) as key_number
    from shared_keys
),

edges_0 as (
    select
        linked_accounts.account_number,
        key_numbers.key_number,
        linked_accounts.account_number as label
    from match_keys
    inner join key_numbers
        on match_keys.match_key = key_numbers.match_key
    inner join linked_accounts
        on match_keys.account_id = linked_accounts.account_id
),

{% for pass_number in range(1, passes + 1) %}
key_labels_{{ pass_number }} as (
    select
        account_number,
        key_number,
        min(label) over (partition by key_number) as label
    from edges_{{ pass_number - 1 }}
),

edges_{{ pass_number }} as (
    select
        account_number,
        key_number,
        min(label) over (partition by account_number) as label
    from key_labels_{{ pass_number }}
),

{% endfor %}
account_labels as {{ retention.materialized() }} (
    select
        accounts.account_id,
        roots.account_id as label
    from (
        select
            account_number,
            min(label) as label
        from edges_{{ passes }}
        group by account_number
    ) as labels
    inner join linked_accounts as accounts
        on labels.account_number = accounts.account_number
    inner join linked_accounts as roots
        on labels.label = roots.account_number
),

cluster_sizes as (
    -- linked accounts only: every other account is a person of its own
    select
        label,
        count(*) as account_count
    from account_labels
    group by label
),

key_types as (
    -- the account's key types in alphabetical order, like string_agg(distinct ... order by);
    -- the accepted_values test of int_identity_match_keys_extracted.key_type lists the same types
    select
        account_id,
        concat_ws(
            ', ',
            {%- for key_type in ['email', 'name_postal', 'phone'] %}
            case when max(case when key_type = '{{ key_type }}' then 1 else 0 end) = 1 then '{{ key_type }}' end
            {{- "," if not loop.last }}
            {%- endfor %}
        ) as match_key_types
    from match_keys
    group by account_id
),

labelled as (
    select
        accounts.account_id,
        accounts.platform,
        accounts.platform_customer_key,
        accounts.order_count,
        coalesce(account_labels.label, accounts.account_id) as label,
        coalesce(cluster_sizes.account_count, 1) as cluster_account_count,
        key_types.match_key_types
    from accounts
    left join account_labels
        on accounts.account_id = account_labels.account_id
    left join cluster_sizes
        on account_labels.label = cluster_sizes.label
    left join key_types
        on accounts.account_id = key_types.account_id
),

final as (
    select
        account_id,
        platform,
        platform_customer_key,
        'c_' || {{ retention.hash_text('label') }} as customer_id,
        label as cluster_root_account_id,
        cluster_account_count,
        order_count as account_order_count,
        match_key_types
    from labelled
)

select * from final
