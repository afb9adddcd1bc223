# One-off editing script used to write the bytearray patch (kept for the record).
import sys
p = sys.argv[1]
s = open(p).read()

def rep(old, new, count=1):
    global s
    n = s.count(old)
    if n != count:
        raise SystemExit(f"expected {count} match(es), got {n}:\n{old}")
    s = s.replace(old, new)

rep('''#include "pycore_bytes_methods.h"
''', '''#include "pycore_bufferflags.h"   // _PyBufLock_Acquire()
#include "pycore_bytes_methods.h"
''')

rep('''static int
bytearray_getbuffer(PyByteArrayObject *obj, Py_buffer *view, int flags)
{
    if (view == NULL) {
        PyErr_SetString(PyExc_BufferError,
            "bytearray_getbuffer: view==NULL argument is obsolete");
        return -1;
    }
    void *ptr = (void *) PyByteArray_AS_STRING(obj);
    if (PyBuffer_FillInfo(view, (PyObject*)obj, ptr, Py_SIZE(obj), 0, flags) < 0) {
        return -1;
    }
    obj->ob_exports++;
    return 0;
}

static void
bytearray_releasebuffer(PyByteArrayObject *obj, Py_buffer *view)
{
    obj->ob_exports--;
    assert(obj->ob_exports >= 0);
}

static int
_canresize(PyByteArrayObject *self)
{
    if (self->ob_exports > 0) {
        PyErr_SetString(PyExc_BufferError,
                "Existing exports of data: object cannot be re-sized");
        return 0;
    }
    return 1;
}
''', '''/* ob_exports holds the reader/writer state of pycore_buflock.h: a mode
   (FREE, SHARED, IMMUTABLE, EXCLUSIVE) and a count of the exports and the
   own operations in progress.  The count is 0 exactly when the word is 0,
   so "ob_exports > 0" still means "exported or in use". */

/* Enter the state for one of the object's own operations (a read, or an
   in-place write that does not resize); on refusal raise BufferError.
   Every successful call is paired with bytearray_leave(). */
static int
bytearray_enter(PyByteArrayObject *self, _PyBufLock_Request request)
{
    int readonly;
    Py_ssize_t seen;
    if (_PyBufLock_Acquire(&self->ob_exports, request, &readonly, &seen) < 0) {
        _PyBufLock_RaiseConflict((PyObject *)self, request, seen);
        return -1;
    }
    return 0;
}

static void
bytearray_leave(PyByteArrayObject *self)
{
    _PyBufLock_Release(&self->ob_exports);
}

/* Check, without entering the state, that an own operation is allowed:
   for reads that run no Python code before they return (with the GIL,
   nothing can change the state in between), and on entry to resizes,
   which are refused again by _canresize() if an export appears meanwhile.
   On refusal raise BufferError and return -1. */
static int
bytearray_check(PyByteArrayObject *self, _PyBufLock_Request request)
{
    Py_ssize_t word = BUFLOCK_LOAD(&self->ob_exports);
    Py_ssize_t new_word;
    int readonly;
    if (_PyBufLock_Transition(word, request, &new_word, &readonly) < 0) {
        _PyBufLock_RaiseConflict((PyObject *)self, request, word);
        return -1;
    }
    return 0;
}

/* Refuse a read of the contents while an exclusive export is held. */
#define CHECK_READ(self, err) \\
    do { \\
        if (bytearray_check((PyByteArrayObject *)(self), \\
                            BUFLOCK_OWN_READ) < 0) { \\
            return (err); \\
        } \\
    } while (0)

/* Refuse a resize while immutable or exclusive exports are held, even one
   that would not change the size (today's rule, "no resize while
   exported", still applies to the other modes through _canresize()). */
#define CHECK_RESIZE(self, err) \\
    do { \\
        if (bytearray_check((PyByteArrayObject *)(self), \\
                            BUFLOCK_OWN_WRITE) < 0) { \\
            return (err); \\
        } \\
    } while (0)

static int
bytearray_getbuffer(PyByteArrayObject *obj, Py_buffer *view, int flags)
{
    if (view == NULL) {
        PyErr_SetString(PyExc_BufferError,
            "bytearray_getbuffer: view==NULL argument is obsolete");
        return -1;
    }
    _PyBufLock_Request request = _PyBufLock_Classify(flags);
    int readonly;
    Py_ssize_t seen;
    if (_PyBufLock_Acquire(&obj->ob_exports, request, &readonly, &seen) < 0) {
        _PyBufLock_RaiseConflict((PyObject *)obj, request, seen);
        return -1;
    }
    void *ptr = (void *) PyByteArray_AS_STRING(obj);
    if (PyBuffer_FillInfo(view, (PyObject*)obj, ptr, Py_SIZE(obj),
                          readonly, flags) < 0) {
        _PyBufLock_Release(&obj->ob_exports);
        return -1;
    }
    return 0;
}

static void
bytearray_releasebuffer(PyByteArrayObject *obj, Py_buffer *view)
{
    assert(BUFLOCK_COUNT(obj->ob_exports) > 0);
    _PyBufLock_Release(&obj->ob_exports);
}

static int
_canresize(PyByteArrayObject *self)
{
    Py_ssize_t word = BUFLOCK_LOAD(&self->ob_exports);
    if (word > 0) {
        int mode = BUFLOCK_MODE(word);
        if (mode == BUFLOCK_IMMUTABLE || mode == BUFLOCK_EXCLUSIVE) {
            _PyBufLock_RaiseConflict((PyObject *)self, BUFLOCK_OWN_WRITE,
                                     word);
        }
        else {
            PyErr_SetString(PyExc_BufferError,
                    "Existing exports of data: object cannot be re-sized");
        }
        return 0;
    }
    return 1;
}
''')

# PyByteArray_Concat: keep a lock conflict visible
rep('''    if (PyObject_GetBuffer(a, &va, PyBUF_SIMPLE) != 0 ||
        PyObject_GetBuffer(b, &vb, PyBUF_SIMPLE) != 0) {
            PyErr_Format(PyExc_TypeError, "can't concat %.100s to %.100s",
                         Py_TYPE(b)->tp_name, Py_TYPE(a)->tp_name);
            goto done;
    }
''', '''    if (PyObject_GetBuffer(a, &va, PyBUF_SIMPLE) != 0 ||
        PyObject_GetBuffer(b, &vb, PyBUF_SIMPLE) != 0) {
            if (!PyErr_ExceptionMatches(PyExc_BufferError)) {
                PyErr_Format(PyExc_TypeError, "can't concat %.100s to %.100s",
                             Py_TYPE(b)->tp_name, Py_TYPE(a)->tp_name);
            }
            goto done;
    }
''')

rep('''    Py_ssize_t size;
    Py_buffer vo;

    if (PyObject_GetBuffer(other, &vo, PyBUF_SIMPLE) != 0) {
        PyErr_Format(PyExc_TypeError, "can't concat %.100s to %.100s",
                     Py_TYPE(other)->tp_name, Py_TYPE(self)->tp_name);
        return NULL;
    }
''', '''    Py_ssize_t size;
    Py_buffer vo;

    CHECK_RESIZE(self, NULL);
    if (PyObject_GetBuffer(other, &vo, PyBUF_SIMPLE) != 0) {
        if (!PyErr_ExceptionMatches(PyExc_BufferError)) {
            PyErr_Format(PyExc_TypeError, "can't concat %.100s to %.100s",
                         Py_TYPE(other)->tp_name, Py_TYPE(self)->tp_name);
        }
        return NULL;
    }
''')

rep('''bytearray_repeat(PyByteArrayObject *self, Py_ssize_t count)
{
    if (count < 0)
''', '''bytearray_repeat(PyByteArrayObject *self, Py_ssize_t count)
{
    CHECK_READ(self, NULL);
    if (count < 0)
''')
rep('''bytearray_irepeat(PyByteArrayObject *self, Py_ssize_t count)
{
    if (count < 0)
''', '''bytearray_irepeat(PyByteArrayObject *self, Py_ssize_t count)
{
    CHECK_RESIZE(self, NULL);
    if (count < 0)
''')
rep('''        PyErr_SetString(PyExc_IndexError, "bytearray index out of range");
        return NULL;
    }
    return _PyLong_FromUnsignedChar((unsigned char)(self->ob_start[i]));
}
''', '''        PyErr_SetString(PyExc_IndexError, "bytearray index out of range");
        return NULL;
    }
    CHECK_READ(self, NULL);
    return _PyLong_FromUnsignedChar((unsigned char)(self->ob_start[i]));
}
''')
rep('''            PyErr_SetString(PyExc_IndexError, "bytearray index out of range");
            return NULL;
        }
        return _PyLong_FromUnsignedChar((unsigned char)(self->ob_start[i]));
''', '''            PyErr_SetString(PyExc_IndexError, "bytearray index out of range");
            return NULL;
        }
        CHECK_READ(self, NULL);
        return _PyLong_FromUnsignedChar((unsigned char)(self->ob_start[i]));
''')
rep('''        slicelength = PySlice_AdjustIndices(PyByteArray_GET_SIZE(self),
                                            &start, &stop, step);

        if (slicelength <= 0)
''', '''        slicelength = PySlice_AdjustIndices(PyByteArray_GET_SIZE(self),
                                            &start, &stop, step);

        CHECK_READ(self, NULL);
        if (slicelength <= 0)
''')

# setslice_linear: same-size assignment is an in-place write
rep('''        memmove(buf + lo + bytes_len, buf + hi,
                Py_SIZE(self) - lo - bytes_len);
    }

    if (bytes_len > 0)
        memcpy(buf + lo, bytes, bytes_len);
    return res;
}
''', '''        memmove(buf + lo + bytes_len, buf + hi,
                Py_SIZE(self) - lo - bytes_len);
    }
    else {
        /* Same size: an in-place write */
        if (bytearray_enter(self, BUFLOCK_OWN_WRITE) < 0) {
            return -1;
        }
        if (bytes_len > 0) {
            memcpy(buf + lo, bytes, bytes_len);
        }
        bytearray_leave(self);
        return res;
    }

    if (bytes_len > 0)
        memcpy(buf + lo, bytes, bytes_len);
    return res;
}
''')
rep('''        if (PyObject_GetBuffer(values, &vbytes, PyBUF_SIMPLE) != 0) {
            PyErr_Format(PyExc_TypeError,
                         "can't set bytearray slice from %.100s",
                         Py_TYPE(values)->tp_name);
            return -1;
        }
''', '''        if (PyObject_GetBuffer(values, &vbytes, PyBUF_SIMPLE) != 0) {
            if (!PyErr_ExceptionMatches(PyExc_BufferError)) {
                PyErr_Format(PyExc_TypeError,
                             "can't set bytearray slice from %.100s",
                             Py_TYPE(values)->tp_name);
            }
            return -1;
        }
''')
rep('''    assert(0 <= ival && ival < 256);
    PyByteArray_AS_STRING(self)[i] = ival;
    return 0;
}
''', '''    assert(0 <= ival && ival < 256);
    if (bytearray_enter(self, BUFLOCK_OWN_WRITE) < 0) {
        return -1;
    }
    PyByteArray_AS_STRING(self)[i] = ival;
    bytearray_leave(self);
    return 0;
}
''')
rep('''        else {
            assert(0 <= ival && ival < 256);
            buf[i] = (char)ival;
            return 0;
        }
''', '''        else {
            assert(0 <= ival && ival < 256);
            if (bytearray_enter(self, BUFLOCK_OWN_WRITE) < 0) {
                return -1;
            }
            /* __index__ may have resized self: reload the pointer. */
            PyByteArray_AS_STRING(self)[i] = (char)ival;
            bytearray_leave(self);
            return 0;
        }
''')
rep('''                             needed, slicelen);
                return -1;
            }
            for (cur = start, i = 0; i < slicelen; cur += step, i++)
                buf[cur] = bytes[i];
            return 0;
''', '''                             needed, slicelen);
                return -1;
            }
            if (bytearray_enter(self, BUFLOCK_OWN_WRITE) < 0) {
                return -1;
            }
            for (cur = start, i = 0; i < slicelen; cur += step, i++)
                buf[cur] = bytes[i];
            bytearray_leave(self);
            return 0;
''')
# __init__
rep('''    Py_ssize_t count;
    PyObject *it;
    PyObject *(*iternext)(PyObject *);

    if (Py_SIZE(self) != 0) {
''', '''    Py_ssize_t count;
    PyObject *it;
    PyObject *(*iternext)(PyObject *);

    CHECK_RESIZE(self, -1);
    if (Py_SIZE(self) != 0) {
''')
# repr
rep('''    char *test, *start;
    char *buffer;

    newsize = strlen(className);
''', '''    char *test, *start;
    char *buffer;

    CHECK_READ(self, NULL);
    newsize = strlen(className);
''')
# richcompare
rep('''        Py_RETURN_NOTIMPLEMENTED;
    }

    /* Bytearrays can be compared to anything that supports the buffer API. */
''', '''        Py_RETURN_NOTIMPLEMENTED;
    }
    /* A comparison reads the contents: refuse it rather than return
       NotImplemented when an exclusive export is held. */
    if (PyByteArray_Check(self)) {
        CHECK_READ(self, NULL);
    }
    if (PyByteArray_Check(other)) {
        CHECK_READ(other, NULL);
    }

    /* Bytearrays can be compared to anything that supports the buffer API. */
''')

# find family: pinned reads (the argument's buffer is taken during the read)
for name, fn in [('find', '_Py_bytes_find'), ('count', '_Py_bytes_count'),
                 ('index', '_Py_bytes_index'), ('rfind', '_Py_bytes_rfind'),
                 ('rindex', '_Py_bytes_rindex')]:
    pad = ' ' * len(f'    return {fn}(')
    old_start = f'    return {fn}(PyByteArray_AS_STRING(self), PyByteArray_GET_SIZE(self),\n'
    i = s.index(f'bytearray_{name}_impl(PyByteArrayObject *self')
    j = s.index(old_start, i)
    k = s.index(';\n', j) + 2
    call = s[j:k]
    args_tail = call[len(old_start):].strip()   # "sub, start, end);"
    pad2 = ' ' * len(f'    PyObject *res = {fn}(')
    new = (f'    if (bytearray_enter(self, BUFLOCK_OWN_READ) < 0) {{\n'
           f'        return NULL;\n'
           f'    }}\n'
           f'    PyObject *res = {fn}(PyByteArray_AS_STRING(self),\n'
           f'{pad2}PyByteArray_GET_SIZE(self), {args_tail}\n'
           f'    bytearray_leave(self);\n'
           f'    return res;\n')
    s = s[:j] + new + s[k:]

for name, fn in [('startswith', '_Py_bytes_startswith'), ('endswith', '_Py_bytes_endswith')]:
    i = s.index(f'bytearray_{name}_impl(PyByteArrayObject *self')
    j = s.index(f'    return {fn}(', i)
    k = s.index(';\n', j) + 2
    pad2 = ' ' * len(f'    PyObject *res = {fn}(')
    new = (f'    if (bytearray_enter(self, BUFLOCK_OWN_READ) < 0) {{\n'
           f'        return NULL;\n'
           f'    }}\n'
           f'    PyObject *res = {fn}(PyByteArray_AS_STRING(self),\n'
           f'{pad2}PyByteArray_GET_SIZE(self),\n'
           f'{pad2}subobj, start, end);\n'
           f'    bytearray_leave(self);\n'
           f'    return res;\n')
    s = s[:j] + new + s[k:]

rep('''static int
bytearray_contains(PyObject *self, PyObject *arg)
{
    return _Py_bytes_contains(PyByteArray_AS_STRING(self), PyByteArray_GET_SIZE(self), arg);
}
''', '''static int
bytearray_contains(PyObject *self, PyObject *arg)
{
    PyByteArrayObject *ba = (PyByteArrayObject *)self;
    if (bytearray_enter(ba, BUFLOCK_OWN_READ) < 0) {
        return -1;
    }
    int res = _Py_bytes_contains(PyByteArray_AS_STRING(self),
                                 PyByteArray_GET_SIZE(self), arg);
    bytearray_leave(ba);
    return res;
}
''')
rep('''bytearray_clear_impl(PyByteArrayObject *self)
/*[clinic end generated code: output=85c2fe6aede0956c input=ed6edae9de447ac4]*/
{
''', '''bytearray_clear_impl(PyByteArrayObject *self)
/*[clinic end generated code: output=85c2fe6aede0956c input=ed6edae9de447ac4]*/
{
    CHECK_RESIZE(self, NULL);
''')
rep('''bytearray_copy_impl(PyByteArrayObject *self)
/*[clinic end generated code: output=68cfbcfed484c132 input=6597b0c01bccaa9e]*/
{
''', '''bytearray_copy_impl(PyByteArrayObject *self)
/*[clinic end generated code: output=68cfbcfed484c132 input=6597b0c01bccaa9e]*/
{
    CHECK_READ(self, NULL);
''')
# removeprefix/suffix
rep('''bytearray_removeprefix_impl(PyByteArrayObject *self, Py_buffer *prefix)
/*[clinic end generated code: output=6cabc585e7f502e0 input=968aada38aedd262]*/
{
''', '''bytearray_removeprefix_impl(PyByteArrayObject *self, Py_buffer *prefix)
/*[clinic end generated code: output=6cabc585e7f502e0 input=968aada38aedd262]*/
{
    CHECK_READ(self, NULL);
''')
rep('''bytearray_removesuffix_impl(PyByteArrayObject *self, Py_buffer *suffix)
/*[clinic end generated code: output=2bc8cfb79de793d3 input=c1827e810b2f6b99]*/
{
''', '''bytearray_removesuffix_impl(PyByteArrayObject *self, Py_buffer *suffix)
/*[clinic end generated code: output=2bc8cfb79de793d3 input=c1827e810b2f6b99]*/
{
    CHECK_READ(self, NULL);
''')
# translate: check after the arguments' buffers are taken
rep('''    else {
        vdel.buf = NULL;
        vdel.len = 0;
    }

    inlen = PyByteArray_GET_SIZE(input_obj);
''', '''    else {
        vdel.buf = NULL;
        vdel.len = 0;
    }

    if (bytearray_check(self, BUFLOCK_OWN_READ) < 0) {
        goto done;
    }
    inlen = PyByteArray_GET_SIZE(input_obj);
''')
rep('''    return stringlib_replace((PyObject *)self,
''', '''    CHECK_READ(self, NULL);
    return stringlib_replace((PyObject *)self,
''')
# split / rsplit: the separator's buffer is taken during the read
for name, ws, sp in [('split', 'stringlib_split_whitespace', 'stringlib_split'),
                     ('rsplit', 'stringlib_rsplit_whitespace', 'stringlib_rsplit')]:
    old = f'''    if (maxsplit < 0)
        maxsplit = PY_SSIZE_T_MAX;

    if (sep == Py_None)
        return {ws}((PyObject*) self, s, len, maxsplit);

    if (PyObject_GetBuffer(sep, &vsub, PyBUF_SIMPLE) != 0)
        return NULL;
    sub = vsub.buf;
    n = vsub.len;

    list = {sp}(
        (PyObject*) self, s, len, sub, n, maxsplit
        );
    PyBuffer_Release(&vsub);
    return list;
'''
    new = f'''    if (maxsplit < 0)
        maxsplit = PY_SSIZE_T_MAX;

    if (sep == Py_None) {{
        CHECK_READ(self, NULL);
        return {ws}((PyObject*) self, s, len, maxsplit);
    }}

    if (PyObject_GetBuffer(sep, &vsub, PyBUF_SIMPLE) != 0)
        return NULL;
    sub = vsub.buf;
    n = vsub.len;

    /* sep's exporter may have run Python code: reload self. */
    if (bytearray_enter(self, BUFLOCK_OWN_READ) < 0) {{
        PyBuffer_Release(&vsub);
        return NULL;
    }}
    list = {sp}(
        (PyObject*) self, PyByteArray_AS_STRING(self),
        PyByteArray_GET_SIZE(self), sub, n, maxsplit
        );
    bytearray_leave(self);
    PyBuffer_Release(&vsub);
    return list;
'''
    rep(old, new)
# partition / rpartition
rep('''    bytesep = _PyByteArray_FromBufferObject(sep);
    if (! bytesep)
        return NULL;

    result = stringlib_partition(
''', '''    bytesep = _PyByteArray_FromBufferObject(sep);
    if (! bytesep)
        return NULL;
    if (bytearray_check(self, BUFLOCK_OWN_READ) < 0) {
        Py_DECREF(bytesep);
        return NULL;
    }

    result = stringlib_partition(
''')
rep('''    bytesep = _PyByteArray_FromBufferObject(sep);
    if (! bytesep)
        return NULL;

    result = stringlib_rpartition(
''', '''    bytesep = _PyByteArray_FromBufferObject(sep);
    if (! bytesep)
        return NULL;
    if (bytearray_check(self, BUFLOCK_OWN_READ) < 0) {
        Py_DECREF(bytesep);
        return NULL;
    }

    result = stringlib_rpartition(
''')
# reverse: in-place write
rep('''    j = n / 2;
    head = PyByteArray_AS_STRING(self);
    tail = head + n - 1;
    for (i = 0; i < j; i++) {
        swap = *head;
        *head++ = *tail;
        *tail-- = swap;
    }

    Py_RETURN_NONE;
''', '''    if (bytearray_enter(self, BUFLOCK_OWN_WRITE) < 0) {
        return NULL;
    }
    j = n / 2;
    head = PyByteArray_AS_STRING(self);
    tail = head + n - 1;
    for (i = 0; i < j; i++) {
        swap = *head;
        *head++ = *tail;
        *tail-- = swap;
    }
    bytearray_leave(self);

    Py_RETURN_NONE;
''')
# resizes: insert, append, extend, pop, remove
for sig in ['bytearray_insert_impl(PyByteArrayObject *self, Py_ssize_t index, int item)',
            'bytearray_append_impl(PyByteArrayObject *self, int item)',
            'bytearray_pop_impl(PyByteArrayObject *self, Py_ssize_t index)',
            'bytearray_remove_impl(PyByteArrayObject *self, int value)']:
    i = s.index(sig + '\n/*[clinic end')
    j = s.index('{\n', i) + 2
    k = s.index('\n\n', j)   # end of declarations block
    s = s[:k] + '\n\n    CHECK_RESIZE(self, NULL);' + s[k:]
rep('''    int value;
    char *buf;

    /* bytearray_setslice code only accepts something supporting PEP 3118. */
''', '''    int value;
    char *buf;

    CHECK_RESIZE(self, NULL);
    /* bytearray_setslice code only accepts something supporting PEP 3118. */
''')
# remove reads before it resizes: it reads buf after CHECK_RESIZE; fine.
# strip helper: check after the argument's buffer is taken
rep('''        bytesptr = (const char*)vbytes.buf;
        byteslen = vbytes.len;
    }
    myptr = PyByteArray_AS_STRING(self);
''', '''        bytesptr = (const char*)vbytes.buf;
        byteslen = vbytes.len;
    }
    if (bytearray_check(self, BUFLOCK_OWN_READ) < 0) {
        if (bytes != Py_None) {
            PyBuffer_Release(&vbytes);
        }
        return NULL;
    }
    myptr = PyByteArray_AS_STRING(self);
''')
rep('''    if (encoding == NULL)
        encoding = PyUnicode_GetDefaultEncoding();
    return PyUnicode_FromEncodedObject((PyObject*)self, encoding, errors);
''', '''    CHECK_READ(self, NULL);
    if (encoding == NULL)
        encoding = PyUnicode_GetDefaultEncoding();
    return PyUnicode_FromEncodedObject((PyObject*)self, encoding, errors);
''')
rep('''    self->ob_exports++; // this protects `self` from being cleared/resized if `iterable_of_bytes` is a custom iterator
    PyObject* ret = stringlib_bytes_join((PyObject*)self, iterable_of_bytes);
    self->ob_exports--; // unexport `self`
    return ret;
''', '''    // An own read for the whole join: it protects `self` from being
    // cleared/resized if `iterable_of_bytes` is a custom iterator.
    if (bytearray_enter(self, BUFLOCK_OWN_READ) < 0) {
        return NULL;
    }
    PyObject* ret = stringlib_bytes_join((PyObject*)self, iterable_of_bytes);
    bytearray_leave(self);
    return ret;
''')
rep('''    return stringlib_splitlines(
        (PyObject*) self, PyByteArray_AS_STRING(self),
''', '''    CHECK_READ(self, NULL);
    return stringlib_splitlines(
        (PyObject*) self, PyByteArray_AS_STRING(self),
''')
rep('''    char* argbuf = PyByteArray_AS_STRING(self);
    Py_ssize_t arglen = PyByteArray_GET_SIZE(self);
    return _Py_strhex_with_sep(argbuf, arglen, sep, bytes_per_sep);
''', '''    CHECK_READ(self, NULL);
    char* argbuf = PyByteArray_AS_STRING(self);
    Py_ssize_t arglen = PyByteArray_GET_SIZE(self);
    return _Py_strhex_with_sep(argbuf, arglen, sep, bytes_per_sep);
''')
rep('''    if (!Py_SIZE(self)) {
        return Py_BuildValue("(O()N)", Py_TYPE(self), state);
    }
''', '''    if (bytearray_check(self, BUFLOCK_OWN_READ) < 0) {
        Py_DECREF(state);
        return NULL;
    }
    if (!Py_SIZE(self)) {
        return Py_BuildValue("(O()N)", Py_TYPE(self), state);
    }
''')
# mod: the arguments' conversions run Python code during the read
rep('''    if (!PyByteArray_Check(v))
        Py_RETURN_NOTIMPLEMENTED;
    return _PyBytes_FormatEx(PyByteArray_AS_STRING(v), PyByteArray_GET_SIZE(v), w, 1);
''', '''    if (!PyByteArray_Check(v))
        Py_RETURN_NOTIMPLEMENTED;
    PyByteArrayObject *self = (PyByteArrayObject *)v;
    if (bytearray_enter(self, BUFLOCK_OWN_READ) < 0) {
        return NULL;
    }
    PyObject *res = _PyBytes_FormatEx(PyByteArray_AS_STRING(v),
                                      PyByteArray_GET_SIZE(v), w, 1);
    bytearray_leave(self);
    return res;
''')
# iterator: checked at every step
rep('''    if (it->it_index < PyByteArray_GET_SIZE(seq)) {
        return _PyLong_FromUnsignedChar(
''', '''    if (it->it_index < PyByteArray_GET_SIZE(seq)) {
        CHECK_READ(seq, NULL);
        return _PyLong_FromUnsignedChar(
''')

# stringlib methods shared with bytes: wrap them
rep('''static PyMethodDef
bytearray_methods[] = {''', '''/* The stringlib methods shared with bytes read the contents: check the
   state first. */
#define BYTEARRAY_NOARGS_READER(name) \\
    static PyObject * \\
    bytearray_##name(PyObject *self, PyObject *unused) \\
    { \\
        CHECK_READ(self, NULL); \\
        return stringlib_##name(self, unused); \\
    }
#define BYTEARRAY_FASTCALL_READER(name) \\
    static PyObject * \\
    bytearray_##name(PyObject *self, PyObject *const *args, Py_ssize_t nargs) \\
    { \\
        CHECK_READ(self, NULL); \\
        return stringlib_##name(self, args, nargs); \\
    }

BYTEARRAY_NOARGS_READER(capitalize)
BYTEARRAY_NOARGS_READER(isalnum)
BYTEARRAY_NOARGS_READER(isalpha)
BYTEARRAY_NOARGS_READER(isascii)
BYTEARRAY_NOARGS_READER(isdigit)
BYTEARRAY_NOARGS_READER(islower)
BYTEARRAY_NOARGS_READER(isspace)
BYTEARRAY_NOARGS_READER(istitle)
BYTEARRAY_NOARGS_READER(isupper)
BYTEARRAY_NOARGS_READER(lower)
BYTEARRAY_NOARGS_READER(swapcase)
BYTEARRAY_NOARGS_READER(title)
BYTEARRAY_NOARGS_READER(upper)
BYTEARRAY_FASTCALL_READER(center)
BYTEARRAY_FASTCALL_READER(ljust)
BYTEARRAY_FASTCALL_READER(rjust)
BYTEARRAY_FASTCALL_READER(zfill)
#undef BYTEARRAY_NOARGS_READER
#undef BYTEARRAY_FASTCALL_READER

static PyObject *
bytearray_expandtabs(PyObject *self, PyObject *const *args,
                     Py_ssize_t nargs, PyObject *kwnames)
{
    CHECK_READ(self, NULL);
    return stringlib_expandtabs(self, args, nargs, kwnames);
}

static PyMethodDef
bytearray_methods[] = {''')
for n in ['capitalize', 'isalnum', 'isalpha', 'isascii', 'isdigit', 'islower',
          'isspace', 'istitle', 'isupper', 'lower', 'swapcase', 'title', 'upper']:
    i = s.index('bytearray_methods[] = {')
    j = s.index(f'{{"{n}", stringlib_{n},', i)
    s = s[:j] + f'{{"{n}", bytearray_{n},' + s[j + len(f'{{"{n}", stringlib_{n},'):]
open(p, 'w').write(s)
