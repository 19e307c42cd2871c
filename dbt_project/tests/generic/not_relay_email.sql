{#- Fails on any marketplace relay / masked address (var relay_email_pattern) in the column:
    such an address must never reach an activation export. -#}
{% test not_relay_email(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and {{ retention.is_relay_email(column_name) }}

{% endtest %}
