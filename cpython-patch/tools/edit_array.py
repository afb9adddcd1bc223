# One-off editing script used to write the array.array patch (kept for the record).
import re, sys
p = sys.argv[1]
s = open(p).read()

def rep(old, new, count=1):
    global s
    n = s.count(old)
    if n != count:
        raise SystemExit(f"expected {count} match(es), got {n}:\n{old}")
    s = s.replace(old, new)

def at_entry(sig, line):
    """Insert `line` as the first statement of the function whose
    definition starts with `sig`."""
    global s
    i = s.index(sig)
    j = s.index('\n{\n', i) + 3
    s = s[:j] + line + '\n' + s[j:]

rep('''#include "Python.h"
#include "pycore_bytesobject.h"   // _PyBytes_Repeat
''', '''#include "Python.h"
#include "pycore_bufferflags.h"   // _PyBufLock_Acquire()
#include "pycore_bytesobject.h"   // _PyBytes_Repeat
''')

rep('''#define array_Check(op, state) PyObject_TypeCheck(op, state->ArrayType)

static int
array_resize(arrayobject *self, Py_ssize_t newsize)
{
    char *items;
    size_t _new_size;

    if (self->ob_exports > 0 && newsize != Py_SIZE(self)) {
        PyErr_SetString(PyExc_BufferError,
            "cannot resize an array that is exporting buffers");
        return -1;
    }
''', '''#define array_Check(op, state) PyObject_TypeCheck(op, state->ArrayType)

/* ob_exports holds the reader/writer state of pycore_buflock.h, as in
   bytearray: see Objects/bytearrayobject.c. */
#define array_enter(self, request) \\
    _PyBufLock_Enter((PyObject *)(self), &(self)->ob_exports, (request))
#define array_leave(self) _PyBufLock_Release(&(self)->ob_exports)

/* Refuse a read of the contents while an exclusive export is held. */
#define CHECK_READ(self, err) \\
    do { \\
        if (_PyBufLock_Check((PyObject *)(self), \\
                             &((arrayobject *)(self))->ob_exports, \\
                             BUFLOCK_OWN_READ) < 0) { \\
            return (err); \\
        } \\
    } while (0)

/* Refuse a resize, even one that would not change the size, while
   immutable or exclusive exports are held. */
#define CHECK_RESIZE(self, err) \\
    do { \\
        if (_PyBufLock_Check((PyObject *)(self), \\
                             &((arrayobject *)(self))->ob_exports, \\
                             BUFLOCK_OWN_WRITE) < 0) { \\
            return (err); \\
        } \\
    } while (0)

#define RESIZE_MESSAGE "cannot resize an array that is exporting buffers"

static int
array_resize(arrayobject *self, Py_ssize_t newsize)
{
    char *items;
    size_t _new_size;

    if (self->ob_exports > 0 && newsize != Py_SIZE(self)) {
        _PyBufLock_RaiseResize((PyObject *)self, self->ob_exports,
                               RESIZE_MESSAGE);
        return -1;
    }
''')
rep('''    arrayobject *ap;
    ap = (arrayobject *)op;
    assert(i>=0 && i<Py_SIZE(ap));
    return (*ap->ob_descr->getitem)(ap, i);
''', '''    arrayobject *ap;
    ap = (arrayobject *)op;
    assert(i>=0 && i<Py_SIZE(ap));
    CHECK_READ(ap, NULL);
    return (*ap->ob_descr->getitem)(ap, i);
''')
rep('''    va = (arrayobject *)v;
    wa = (arrayobject *)w;
''', '''    va = (arrayobject *)v;
    wa = (arrayobject *)w;
    CHECK_READ(va, NULL);
    CHECK_READ(wa, NULL);
''')
rep('''    array_state *state = find_array_state_by_type(Py_TYPE(a));
    arrayobject *np;

    if (ilow < 0)
''', '''    array_state *state = find_array_state_by_type(Py_TYPE(a));
    arrayobject *np;

    CHECK_READ(a, NULL);
    if (ilow < 0)
''')
at_entry('array_array_clear_impl(arrayobject *self)', '    CHECK_RESIZE(self, NULL);')
rep('''#define b ((arrayobject *)bb)
    if (a->ob_descr != b->ob_descr) {
        PyErr_BadArgument();
        return NULL;
    }
''', '''#define b ((arrayobject *)bb)
    if (a->ob_descr != b->ob_descr) {
        PyErr_BadArgument();
        return NULL;
    }
    CHECK_READ(a, NULL);
    CHECK_READ(b, NULL);
''')
rep('''    array_state *state = find_array_state_by_type(Py_TYPE(a));

    if (n < 0)
        n = 0;
''', '''    array_state *state = find_array_state_by_type(Py_TYPE(a));

    CHECK_READ(a, NULL);
    if (n < 0)
        n = 0;
''')
rep('''    if (d != 0 && a->ob_exports > 0) {
        PyErr_SetString(PyExc_BufferError,
            "cannot resize an array that is exporting buffers");
        return -1;
    }
''', '''    if (d != 0 && a->ob_exports > 0) {
        _PyBufLock_RaiseResize((PyObject *)a, a->ob_exports, RESIZE_MESSAGE);
        return -1;
    }
''')
rep('''    if (v == NULL)
        return array_del_slice(a, i, i+1);
    return (*a->ob_descr->setitem)(a, i, v);
}
''', '''    if (v == NULL)
        return array_del_slice(a, i, i+1);
    /* An in-place write; it also keeps the array from being resized by
       the conversion of v. */
    if (array_enter(a, BUFLOCK_OWN_WRITE) < 0) {
        return -1;
    }
    int res = (*a->ob_descr->setitem)(a, i, v);
    array_leave(a);
    return res;
}
''')
rep('''    array_state *state = find_array_state_by_type(Py_TYPE(self));

    if (!array_Check(bb, state)) {
        PyErr_Format(PyExc_TypeError,
            "can only extend array with array (not \\"%.200s\\")",
            Py_TYPE(bb)->tp_name);
        return NULL;
    }
''', '''    array_state *state = find_array_state_by_type(Py_TYPE(self));

    CHECK_RESIZE(self, NULL);
    if (!array_Check(bb, state)) {
        PyErr_Format(PyExc_TypeError,
            "can only extend array with array (not \\"%.200s\\")",
            Py_TYPE(bb)->tp_name);
        return NULL;
    }
''')
rep('''    const Py_ssize_t array_size = Py_SIZE(self);

    if (array_size > 0 && n != 1 ) {
''', '''    const Py_ssize_t array_size = Py_SIZE(self);

    CHECK_RESIZE(self, NULL);
    if (array_size > 0 && n != 1 ) {
''')
rep('''static PyObject *
ins(arrayobject *self, Py_ssize_t where, PyObject *v)
{
''', '''static PyObject *
ins(arrayobject *self, Py_ssize_t where, PyObject *v)
{
    CHECK_RESIZE(self, NULL);
''')
for sig in ['array_array_remove(arrayobject *self, PyObject *v)',
            'array_array_pop_impl(arrayobject *self, Py_ssize_t i)',
            'array_array_extend_impl(arrayobject *self, PyTypeObject *cls, PyObject *bb)',
            'array_array_fromfile_impl(arrayobject *self, PyTypeObject *cls, PyObject *f,',
            'array_array_fromlist(arrayobject *self, PyObject *list)',
            'array_array_frombytes_impl(arrayobject *self, Py_buffer *buffer)',
            'array_array_fromunicode_impl(arrayobject *self, PyObject *ustr)']:
    at_entry(sig, '    CHECK_RESIZE(self, NULL);')
for sig in ['array_array_tobytes_impl(arrayobject *self)',
            'array_array_tounicode_impl(arrayobject *self)']:
    at_entry(sig, '    CHECK_READ(self, NULL);')
# byteswap, reverse: in-place writes
rep('''    char *p;
    Py_ssize_t i;

    switch (self->ob_descr->itemsize) {
    case 1:
        break;
''', '''    char *p;
    Py_ssize_t i;

    if (array_enter(self, BUFLOCK_OWN_WRITE) < 0) {
        return NULL;
    }
    switch (self->ob_descr->itemsize) {
    case 1:
        break;
''')
rep('''    default:
        PyErr_SetString(PyExc_RuntimeError,
                   "don't know how to byteswap this array type");
        return NULL;
    }
    Py_RETURN_NONE;
''', '''    default:
        array_leave(self);
        PyErr_SetString(PyExc_RuntimeError,
                   "don't know how to byteswap this array type");
        return NULL;
    }
    array_leave(self);
    Py_RETURN_NONE;
''')
rep('''    assert((size_t)itemsize <= sizeof(tmp));

    if (Py_SIZE(self) > 1) {
''', '''    assert((size_t)itemsize <= sizeof(tmp));

    if (array_enter(self, BUFLOCK_OWN_WRITE) < 0) {
        return NULL;
    }
    if (Py_SIZE(self) > 1) {
''')
rep('''            memcpy(tmp, p, itemsize);
            memcpy(p, q, itemsize);
            memcpy(q, tmp, itemsize);
        }
    }

    Py_RETURN_NONE;
''', '''            memcpy(tmp, p, itemsize);
            memcpy(p, q, itemsize);
            memcpy(q, tmp, itemsize);
        }
    }
    array_leave(self);

    Py_RETURN_NONE;
''')
# tofile: an own read for the whole loop (f.write() runs Python code)
rep('''    array_state *state = get_array_state_by_class(cls);
    assert(state != NULL);

    for (i = 0; i < nblocks; i++) {
        char* ptr = self->ob_item + i*BLOCKSIZE;
        Py_ssize_t size = BLOCKSIZE;
        PyObject *bytes, *res;

        if (i*BLOCKSIZE + size > nbytes)
            size = nbytes - i*BLOCKSIZE;
        bytes = PyBytes_FromStringAndSize(ptr, size);
        if (bytes == NULL)
            return NULL;
        res = PyObject_CallMethodOneArg(f, state->str_write, bytes);
        Py_DECREF(bytes);
        if (res == NULL)
            return NULL;
        Py_DECREF(res); /* drop write result */
    }
''', '''    array_state *state = get_array_state_by_class(cls);
    assert(state != NULL);

    /* f.write() runs Python code: hold an own read for the whole loop. */
    if (array_enter(self, BUFLOCK_OWN_READ) < 0) {
        return NULL;
    }
    for (i = 0; i < nblocks; i++) {
        char* ptr = self->ob_item + i*BLOCKSIZE;
        Py_ssize_t size = BLOCKSIZE;
        PyObject *bytes, *res;

        if (i*BLOCKSIZE + size > nbytes)
            size = nbytes - i*BLOCKSIZE;
        bytes = PyBytes_FromStringAndSize(ptr, size);
        if (bytes == NULL) {
            array_leave(self);
            return NULL;
        }
        res = PyObject_CallMethodOneArg(f, state->str_write, bytes);
        Py_DECREF(bytes);
        if (res == NULL) {
            array_leave(self);
            return NULL;
        }
        Py_DECREF(res); /* drop write result */
    }
    array_leave(self);
''')
# subscr: slices read
rep('''        slicelength = PySlice_AdjustIndices(Py_SIZE(self), &start, &stop,
                                            step);

        if (slicelength <= 0) {
            return newarrayobject(state->ArrayType, 0, self->ob_descr);
        }
''', '''        slicelength = PySlice_AdjustIndices(Py_SIZE(self), &start, &stop,
                                            step);

        CHECK_READ(self, NULL);
        if (slicelength <= 0) {
            return newarrayobject(state->ArrayType, 0, self->ob_descr);
        }
''')
rep('''        else
            return (*self->ob_descr->setitem)(self, i, value);
    }
''', '''        else
            return array_ass_item(self, i, value);
    }
''')
rep('''    if ((needed == 0 || slicelength != needed) && self->ob_exports > 0) {
        PyErr_SetString(PyExc_BufferError,
            "cannot resize an array that is exporting buffers");
        return -1;
    }
''', '''    if ((needed == 0 || slicelength != needed) && self->ob_exports > 0) {
        _PyBufLock_RaiseResize((PyObject *)self, self->ob_exports,
                               RESIZE_MESSAGE);
        return -1;
    }
''')
rep('''            memmove(self->ob_item + (start + needed) * itemsize,
                self->ob_item + stop * itemsize,
                (Py_SIZE(self) - start - needed) * itemsize);
        }
        if (needed > 0)
''', '''            memmove(self->ob_item + (start + needed) * itemsize,
                self->ob_item + stop * itemsize,
                (Py_SIZE(self) - start - needed) * itemsize);
        }
        else {
            /* Same size: an in-place write */
            if (array_enter(self, BUFLOCK_OWN_WRITE) < 0) {
                return -1;
            }
            if (needed > 0) {
                memcpy(self->ob_item + start * itemsize,
                       other->ob_item, needed * itemsize);
            }
            array_leave(self);
            return 0;
        }
        if (needed > 0)
''')
rep('''                needed, slicelength);
            return -1;
        }
        for (cur = start, i = 0; i < slicelength;
             cur += step, i++) {
            memcpy(self->ob_item + cur * itemsize,
                   other->ob_item + i * itemsize,
                   itemsize);
        }
        return 0;
''', '''                needed, slicelength);
            return -1;
        }
        if (array_enter(self, BUFLOCK_OWN_WRITE) < 0) {
            return -1;
        }
        for (cur = start, i = 0; i < slicelength;
             cur += step, i++) {
            memcpy(self->ob_item + cur * itemsize,
                   other->ob_item + i * itemsize,
                   itemsize);
        }
        array_leave(self);
        return 0;
''')
rep('''            "array_buffer_getbuf: view==NULL argument is obsolete");
        return -1;
    }

    view->buf = (void *)self->ob_item;
''', '''            "array_buffer_getbuf: view==NULL argument is obsolete");
        return -1;
    }
    int readonly;
    if (_PyBufLock_Export((PyObject *)self, &self->ob_exports, flags,
                          &readonly) < 0) {
        return -1;
    }

    view->buf = (void *)self->ob_item;
''')
rep('''    view->readonly = 0;
    view->ndim = 1;''', '''    view->readonly = readonly;
    view->ndim = 1;''')
rep('''    }

    self->ob_exports++;
    return 0;
}

static void
array_buffer_relbuf(arrayobject *self, Py_buffer *view)
{
    self->ob_exports--;
}''', '''    }

    return 0;
}

static void
array_buffer_relbuf(arrayobject *self, Py_buffer *view)
{
    _PyBufLock_Release(&self->ob_exports);
}''')
rep('''    if (it->index < Py_SIZE(ao)) {
        return (*it->getitem)(ao, it->index++);
    }
''', '''    if (it->index < Py_SIZE(ao)) {
        CHECK_READ(ao, NULL);
        return (*it->getitem)(ao, it->index++);
    }
''')
rep('''    if (PyModule_AddType(m, state->ArrayType) < 0) {
        return -1;
    }
''', '''    if (PyModule_AddType(m, state->ArrayType) < 0) {
        return -1;
    }

    /* array.array honours PyBUF_IMMUTABLE and PyBUF_EXCLUSIVE. */
    PyObject *dict = PyType_GetDict(state->ArrayType);
    PyObject *flags = PyLong_FromLong(PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE);
    int rc = (dict == NULL || flags == NULL) ? -1 :
        PyDict_SetItemString(dict, "__buffer_flags__", flags);
    Py_XDECREF(flags);
    Py_XDECREF(dict);
    if (rc < 0) {
        return -1;
    }
    PyType_Modified(state->ArrayType);
''')
open(p, 'w').write(s)
