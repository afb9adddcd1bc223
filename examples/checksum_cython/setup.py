"""Build the Cython variant: bufferflags.pxd (for cimport) and bufferflags.h
(for the C compiler) are both in bufferflags.get_include().

The metadata is in pyproject.toml."""
from Cython.Build import cythonize
from setuptools import Extension, setup

import bufferflags

setup(
    ext_modules=cythonize(
        [Extension("checksum_cy", ["checksum_cy.pyx"],
                   include_dirs=[bufferflags.get_include()])],
        include_path=[bufferflags.get_include()],
    ),
)
