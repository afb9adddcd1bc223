"""Builds of tests/capi/_bfcheck.c for the running interpreter (issue 11).

The same source is compiled against the full C API and, where the
interpreter allows it (not on free-threaded 3.13), the limited API 3.11:
the ``ext`` fixture is parametrized over the builds.
"""
from pathlib import Path

import pytest

from ._build import build_extension, free_threaded

HERE = Path(__file__).resolve().parent

VARIANTS = {"full": ()}
if not free_threaded():
    VARIANTS["limited-3.11"] = ("Py_LIMITED_API=0x030B0000",)


@pytest.fixture(scope="session")
def builds(tmp_path_factory):
    out = tmp_path_factory.mktemp("capi")
    return {name: build_extension(HERE / "_bfcheck.c", "_bfcheck", out / name,
                                  defines)
            for name, defines in VARIANTS.items()}


@pytest.fixture(params=list(VARIANTS))
def built(request, builds):
    return builds[request.param]


@pytest.fixture
def ext(built):
    return built.module
