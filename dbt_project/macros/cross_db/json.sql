{#- Nested JSON: parse a column once into typed structs and lists, then use plain field access
    (`alias.field`), which is the same on DuckDB and Spark. `schema` is a dict / list of the
    shape with leaf types 'text', 'number', 'boolean' or 'json'. -#}

{% macro json_to_struct(column, schema) -%}
    {{ return(adapter.dispatch('json_to_struct', 'retention')(column, schema)) }}
{%- endmacro %}

{% macro default__json_to_struct(column, schema) -%}
    json_transform({{ column }}, '{{ retention.duckdb_json_schema(schema) | tojson }}')
{%- endmacro %}

{% macro spark__json_to_struct(column, schema) -%}
    from_json({{ column }}, '{{ retention.spark_ddl_type(schema) }}')
{%- endmacro %}

{% macro duckdb_json_schema(schema) -%}
    {%- set leaf_types = {'text': 'VARCHAR', 'number': 'DOUBLE', 'boolean': 'BOOLEAN', 'json': 'JSON'} -%}
    {%- if schema is mapping -%}
        {%- set out = {} -%}
        {%- for key, value in schema.items() -%}
            {%- do out.update({key: retention.duckdb_json_schema(value)}) -%}
        {%- endfor -%}
        {{ return(out) }}
    {%- elif schema is string -%}
        {{ return(leaf_types[schema]) }}
    {%- else -%}
        {{ return([retention.duckdb_json_schema(schema[0])]) }}
    {%- endif -%}
{%- endmacro %}

{% macro spark_ddl_type(schema) -%}
    {%- set leaf_types = {'text': 'string', 'number': 'double', 'boolean': 'boolean', 'json': 'string'} -%}
    {%- if schema is mapping -%}
        {%- set fields = [] -%}
        {%- for key, value in schema.items() -%}
            {%- do fields.append('`' ~ key ~ '`:' ~ retention.spark_ddl_type(value)) -%}
        {%- endfor -%}
        {{ return('struct<' ~ fields | join(',') ~ '>') }}
    {%- elif schema is string -%}
        {{ return(leaf_types[schema]) }}
    {%- else -%}
        {{ return('array<' ~ retention.spark_ddl_type(schema[0]) ~ '>') }}
    {%- endif -%}
{%- endmacro %}

{#- one row per list element, in the select list: `select key, {{ explode('items') }} as item` -#}
{% macro explode(list_expression) -%}
    {{ return(adapter.dispatch('explode', 'retention')(list_expression)) }}
{%- endmacro %}

{% macro default__explode(list_expression) -%}
    unnest({{ list_expression }})
{%- endmacro %}

{% macro spark__explode(list_expression) -%}
    explode({{ list_expression }})
{%- endmacro %}

{% macro array_size(list_expression) -%}
    {{ return(adapter.dispatch('array_size', 'retention')(list_expression)) }}
{%- endmacro %}

{% macro default__array_size(list_expression) -%}
    coalesce(len({{ list_expression }}), 0)
{%- endmacro %}

{% macro spark__array_size(list_expression) -%}
    coalesce(size({{ list_expression }}), 0)
{%- endmacro %}

{#- element i (1-based) of a list, null when absent -#}
{% macro array_element(list_expression, position) -%}
    {{ return(adapter.dispatch('array_element', 'retention')(list_expression, position)) }}
{%- endmacro %}

{% macro default__array_element(list_expression, position) -%}
    {{ list_expression }}[{{ position }}]
{%- endmacro %}

{% macro spark__array_element(list_expression, position) -%}
    element_at({{ list_expression }}, {{ position }})
{%- endmacro %}
