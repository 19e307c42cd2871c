{#- Raw tables keep every version of a record; staging keeps the latest: by the platform's
    updated timestamp (when it has one), then the load time, then the later row in the file. -#}
{% macro latest_version_rank(key_columns, updated_expression=none) -%}
    row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by
            {%- if updated_expression is not none %} {{ updated_expression }} desc nulls last,{% endif %}
            _loaded_at desc, _row_number desc
    )
{%- endmacro %}
