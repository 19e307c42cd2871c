-- Identity resolution converged: no match key is shared by accounts of two different
-- customers. Fails when var identity_max_passes was too low for the longest chain.
select
    match_keys.match_key,
    count(distinct identities.customer_id) as customers
from {{ ref('int_identity_match_keys_extracted') }} as match_keys
inner join {{ ref('int_customer_identities_resolved') }} as identities
    on match_keys.account_id = identities.account_id
group by match_keys.match_key
having count(distinct identities.customer_id) > 1
