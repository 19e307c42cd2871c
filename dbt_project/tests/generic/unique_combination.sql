{#- Fails on every combination of the columns that more than one row has (a unique key of
    several columns, without a concatenated id column to store). -#}
{% test unique_combination(model, columns) %}

select {{ columns | join(', ') }}, count(*) as row_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
