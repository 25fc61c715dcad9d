"""Shared fixtures: a small synthetic population, generated once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.synthetic import extracts, generate_population, write_extracts


@pytest.fixture(scope="session")
def population():
    return generate_population(seed=7)


@pytest.fixture(scope="session")
def tables(population):
    return extracts(population, seed=7)


@pytest.fixture(scope="session")
def extract_files(tables, tmp_path_factory) -> dict[str, Path]:
    return write_extracts(tables, tmp_path_factory.mktemp("extracts"))
