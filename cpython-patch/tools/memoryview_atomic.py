"""The edits of the "memoryview export counts are atomic" commit, as
(before, after) pairs on Objects/memoryobject.c: make_series.py reverts them
for the earlier commits, which carry the file without this change."""

PAIRS = [
    ('#include "pycore_object.h"        // _PyObject_GC_UNTRACK()\n',
     '#include "pycore_object.h"        // _PyObject_GC_UNTRACK()\n'
     '#include "pycore_pyatomic_ft_wrappers.h" // FT_ATOMIC_LOAD_SSIZE()\n'),
    ('''#include "clinic/memoryobject.c.h"
''',
     '''#include "clinic/memoryobject.c.h"

/* Add n to an export count and return its old value.  Views of one
   managed buffer, and exports of one memoryview, are made and released by
   any thread that holds them: on the free-threaded build the counts must
   not lose updates. */
static inline Py_ssize_t
exports_add(Py_ssize_t *count, Py_ssize_t n)
{
#ifdef Py_GIL_DISABLED
    return _Py_atomic_add_ssize(count, n);
#else
    Py_ssize_t old = *count;
    *count = old + n;
    return old;
#endif
}
'''),
    ('''    init_flags(mv);

    mv->mbuf = (_PyManagedBufferObject*)Py_NewRef(mbuf);
    mbuf->exports++;
''',
     '''    init_flags(mv);

    mv->mbuf = (_PyManagedBufferObject*)Py_NewRef(mbuf);
    exports_add(&mbuf->exports, 1);
'''),
    ('''    init_shared_values(dest, src);

    mv->mbuf = (_PyManagedBufferObject*)Py_NewRef(mbuf);
    mbuf->exports++;
''',
     '''    init_shared_values(dest, src);

    mv->mbuf = (_PyManagedBufferObject*)Py_NewRef(mbuf);
    exports_add(&mbuf->exports, 1);
'''),
    ('''    assert(self->mbuf->exports > 0);
    if (--self->mbuf->exports == 0) {''',
     '''    assert(self->mbuf->exports > 0);
    if (exports_add(&self->mbuf->exports, -1) == 1) {'''),
    ('''{
    if (self->exports == 0) {
        _memory_release(self);
        Py_RETURN_NONE;
    }

    if (self->exports > 0) {
        PyErr_Format(PyExc_BufferError,
            "memoryview has %zd exported buffer%s", self->exports,
            self->exports==1 ? "" : "s");
        return NULL;
    }
''',
     '''{
    Py_ssize_t exports = FT_ATOMIC_LOAD_SSIZE(self->exports);
    if (exports == 0) {
        _memory_release(self);
        Py_RETURN_NONE;
    }

    if (exports > 0) {
        PyErr_Format(PyExc_BufferError,
            "memoryview has %zd exported buffer%s", exports,
            exports==1 ? "" : "s");
        return NULL;
    }
'''),
    ('''    view->obj = Py_NewRef(self);
    self->exports++;

    return 0;''',
     '''    view->obj = Py_NewRef(self);
    exports_add(&self->exports, 1);

    return 0;'''),
    ('''    PyMemoryViewObject *self = (PyMemoryViewObject *)_self;
    self->exports--;
    return;''',
     '''    PyMemoryViewObject *self = (PyMemoryViewObject *)_self;
    exports_add(&self->exports, -1);
    return;'''),
]


def apply(text):
    for before, after in PAIRS:
        assert text.count(before) == 1, before
        text = text.replace(before, after)
    return text


def revert(text):
    for before, after in PAIRS:
        assert text.count(after) == 1, after
        text = text.replace(after, before)
    return text


if __name__ == '__main__':
    import sys
    path = sys.argv[1]
    with open(path) as f:
        text = apply(f.read())
    with open(path, 'w') as f:
        f.write(text)
