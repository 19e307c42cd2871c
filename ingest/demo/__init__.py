"""Deterministic demo data generator (F7): platform-shaped landing files plus planted churn truth.

`from ingest.demo import generate` works; the import is lazy so that
`python -m ingest.demo.generator` does not import the module twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.demo.generator import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]


def __getattr__(name: str):
    if name in __all__:
        from ingest.demo import generator

        return getattr(generator, name)
    raise AttributeError(name)
