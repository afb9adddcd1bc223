"""Build the checksum example: bufferflags.h comes from get_include()."""
from setuptools import Extension, setup

import bufferflags

setup(
    name="checksum",
    version="0.1.0",
    ext_modules=[
        Extension("checksum", ["checksum.c"],
                  include_dirs=[bufferflags.get_include()]),
    ],
)
