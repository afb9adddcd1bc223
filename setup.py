from setuptools import setup

setup(cffi_modules=["shim/bufferflags/_native_build.py:ffibuilder"])
