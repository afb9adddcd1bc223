"""Build the checksum example: bufferflags.h comes from get_include().

The metadata is in pyproject.toml; only the extension, whose include
directory is computed, is here."""
from setuptools import Extension, setup

import bufferflags

setup(
    ext_modules=[
        Extension("checksum", ["checksum.c"],
                  include_dirs=[bufferflags.get_include()]),
    ],
)
