"""The one resource every asset shares: the settings file and the DuckDB warehouse it configures."""


from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from core.settings import Settings, load_settings
from core.warehouse import connect

# Every asset that writes DuckDB runs in this pool; dagster.yaml limits pools to one op at a time.
DUCKDB_POOL = "duckdb"


class Warehouse(dg.ConfigurableResource):
    """Settings (validated on first use) and connections to the DuckDB warehouse they name."""

    settings_file: str | None = None  # None: RETENTION_SETTINGS or ./settings.yaml

    def load_settings(self) -> Settings:
        return load_settings(self.settings_file)

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(self.load_settings(), read_only=read_only)
        try:
            yield con
        finally:
            con.close()


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"warehouse": Warehouse()})
