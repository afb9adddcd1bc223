"""Build the Cython variant: bufferflags.h comes from get_include()."""
from Cython.Build import cythonize
from setuptools import Extension, setup

import bufferflags

setup(
    name="checksum-cy",
    version="0.1.0",
    ext_modules=cythonize([
        Extension("checksum_cy", ["checksum_cy.pyx"],
                  include_dirs=[bufferflags.get_include()]),
    ]),
)
