"""The C part: cffi builds bufferflags._native from the sources in
shim/bufferflags (_locking.c, _c_api.c, _buflock.h, include/bufferflags.h).

Those sources and the cffi build script are needed only to build: the sdist
carries them (MANIFEST.in), the wheel does not (exclude-package-data in
pyproject.toml for the C files, build_py below for the script)."""
from setuptools import setup
from setuptools.command.build_py import build_py

BUILD_ONLY_MODULES = {("bufferflags", "_native_build")}


class build_py_without_build_script(build_py):
    def find_package_modules(self, package, package_dir):
        return [
            entry for entry in super().find_package_modules(package, package_dir)
            if (entry[0], entry[1]) not in BUILD_ONLY_MODULES
        ]


setup(
    cffi_modules=["shim/bufferflags/_native_build.py:ffibuilder"],
    cmdclass={"build_py": build_py_without_build_script},
)
