"""The package's surface as a new user meets it (issue 11 papercuts):
__all__, __version__, get_include() and its header, and view()'s signature
and help, which on the shim is a C function standing in for the Python one."""
import importlib.metadata
import inspect
import pydoc
import re
from pathlib import Path

import pytest

import bufferflags as bf


def test_all_names_exist():
    for name in bf.__all__:
        assert hasattr(bf, name), name
    assert {"BufferConflictError", "__version__", "get_include",
            "view"} <= set(bf.__all__)


def test_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.dev\d+)?",
                        bf.__version__)


def test_version_matches_the_installed_metadata():
    try:
        installed = importlib.metadata.version("bufferflags")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("bufferflags runs from the source tree here")
    dist = importlib.metadata.distribution("bufferflags")
    if Path(dist.locate_file("bufferflags")) != Path(bf.__file__).parent:
        pytest.skip("a different bufferflags is installed than the one tested")
    assert bf.__version__ == installed


def test_get_include_holds_the_header():
    include = Path(bf.get_include())
    assert include.is_absolute()
    header = (include / "bufferflags.h").read_text()
    for name in ("BufferFlags_Import", "BufferFlags_SupportedFlags",
                 "BufferFlags_GetBuffer", "PyBUF_IMMUTABLE 0x0400",
                 "PyBUF_EXCLUSIVE 0x0800", '"bufferflags._C_API"'):
        assert name in header, name


def test_capsule_exists_on_stock_only():
    if bf.NATIVE:
        assert bf._C_API is None
    else:
        assert type(bf._C_API).__name__ == "PyCapsule"
        assert '"bufferflags._C_API"' in repr(bf._C_API)


def test_view_signature():
    """inspect.signature() of view() is the Python one on both backends,
    keyword-only guarantees included."""
    params = inspect.signature(bf.view).parameters
    assert list(params) == ["obj", "immutable", "exclusive", "writable",
                            "fallback"]
    assert params["obj"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    for name in ("immutable", "exclusive", "writable"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert params[name].default is False
    assert params["fallback"].default is None


def test_view_help_shows_signature_and_docstring():
    text = pydoc.render_doc(bf.view, renderer=pydoc.plaintext)
    # The Python function's help shows its annotations too, and 3.13 may
    # put each parameter on a line of its own.
    flat = re.sub(r"\s+", "", text)
    assert re.search(r"view\(obj[^,]*,\*,immutable[^,]*=False,"
                     r"exclusive[^,]*=False,writable[^,]*=False,"
                     r"fallback[^,)]*=None\)", flat), text
    assert "A memoryview of obj that carries the requested guarantees." in text
    assert "fallback=\"copy\"" in text
    assert "immutable: nothing can change the memory" in bf.view.__doc__


def test_view_by_keyword_obj():
    """The signature says obj may be passed by keyword: it may."""
    with bf.view(obj=b"abc", immutable=True) as v:
        assert v.tobytes() == b"abc"
