{#-
    Incremental staging: the nightly run reads only what arrived, not all history.

    On a full build (first run, or `--full-refresh`) this is every raw row. On an incremental
    run it is every raw version of the keys that got a new raw row since the model's latest
    `loaded_at`: the version ranking of the model then sees exactly the rows a full build
    would see for those keys, and the merge on the model's `unique_key` (delete+insert)
    replaces them. Late-arriving records and new versions of old records are both handled;
    raw tables are append-only, so nothing else can have changed.

    Plain SQL (a correlated EXISTS), no engine-specific syntax.
-#}
{% macro incremental_source(relation, key_columns) -%}
select * from {{ relation }} as raw_rows
{%- if is_incremental() %}
where exists (
    select 1
    from {{ relation }} as arrived
    where arrived._loaded_at > coalesce((select max(loaded_at) from {{ this }}), cast('1900-01-01' as timestamp))
    {%- for key in key_columns %}
        and arrived.{{ key }} = raw_rows.{{ key }}
    {%- endfor %}
)
{%- endif %}
{%- endmacro %}


{#-
    Incremental intermediate models: a staging row that arrived since this model's last
    build. Staging rows carry the `loaded_at` of their raw version, and raw loads never run
    during a dbt build, so every staging row newer than the latest `loaded_at` this model
    holds is one it has not seen. True on a full build. Plain SQL.
    With `watermark='built_at'`: a row an upstream incremental model wrote after the latest
    build of this one (both keep `built_at`, when their build started).
-#}
{% macro arrived_since_last_build(column='loaded_at', watermark='loaded_at') -%}
{%- if is_incremental() -%}
    {{ column }} > coalesce((select max({{ watermark }}) from {{ this }}), cast('1900-01-01' as timestamp))
{%- else -%}
    1 = 1
{%- endif -%}
{%- endmacro %}


{#-
    Post-hook of an incremental model whose rows can leave scope without a new row taking
    their key (an order cancelled, a customer merged away): a delete+insert merge only
    replaces the keys it inserts, so afterwards every row whose key is no longer among
    `key_column` of `relation` (filtered by `where`) is deleted. Plain SQL.
-#}
{% macro delete_keys_missing_from(target, key_column, relation, where=none) -%}
    delete from {{ target }}
    where {{ key_column }} not in (
        select {{ key_column }} from {{ relation }}{% if where %} where {{ where }}{% endif %}
    )
{%- endmacro %}
