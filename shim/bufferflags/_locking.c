/* The native half of the bufferflags shim.
 *
 * cffi compiles this file into bufferflags._native.  cffi's own call path
 * releases the GIL and cannot pass PyObject*, so only one function goes
 * through it: bufferflags_init(), called once at import, which builds the
 * types and functions below and stores them in a dict handed over by id().
 * From then on every call is an ordinary CPython C call: no cffi overhead
 * on the buffer acquire/release path.
 *
 * LockingBytearray is a bytearray with the reader/writer state of
 * _buflock.h in one extra word.  Its buffer slots enforce semantics.md
 * §3.1 for every consumer (memoryview, hashlib, readinto, C code asking for
 * PyBUF_IMMUTABLE, ...), and every slot and method that reads or writes the
 * contents holds the state for its duration (§3.2).  Writes and resizes run
 * their Python-level input (__index__, iterators, codecs, __buffer__)
 * before they take the state, and a resize holds it exclusively
 * (BUFLOCK_RESIZING), so an export granted from inside the input sees the
 * old contents and a refused operation leaves no trace.
 *
 * Export wraps one acquisition made with arbitrary request flags, so that
 * a memoryview can be built over it on 3.11 too (no PEP 688 there) and so
 * that the flags it was granted can be read back (memoryview forwarding,
 * §5).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define BUFLOCK_LOAD(ptr) __atomic_load_n((ptr), __ATOMIC_ACQUIRE)
#define BUFLOCK_CAS(ptr, expected, desired) \
    __atomic_compare_exchange_n((ptr), (expected), (desired), 0, \
                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
#include "_buflock.h"

typedef struct {
    PyByteArrayObject bytearray;
    Py_ssize_t lock;            /* _buflock.h state word */
} LockingBytearrayObject;

#define LOCK_WORD(op) (&((LockingBytearrayObject *)(op))->lock)

static PyTypeObject *LockingBytearray_Type;

/* bytearray's own implementations, which every wrapper below delegates to. */
static getbufferproc base_getbuffer;
static releasebufferproc base_releasebuffer;

static int
guard_enter(PyObject *self, _PyBufLock_Request request)
{
    int readonly;
    Py_ssize_t seen;
    if (_PyBufLock_Acquire(LOCK_WORD(self), request, &readonly, &seen) < 0) {
        _PyBufLock_RaiseConflict(self, request, seen);
        return -1;
    }
    return 0;
}

#define guard_exit(self) _PyBufLock_Release(LOCK_WORD(self))

/* Refuse an own operation that the state refuses now, without entering
 * it: checked before an operation runs its input, so that the input is not
 * consumed by an operation that is then refused anyway. */
static int
guard_check(PyObject *self, _PyBufLock_Request request)
{
    Py_ssize_t seen = BUFLOCK_LOAD(LOCK_WORD(self));
    Py_ssize_t new_word;
    int readonly;
    if (_PyBufLock_Transition(seen, request, &new_word, &readonly) < 0) {
        _PyBufLock_RaiseConflict(self, request, seen);
        return -1;
    }
    return 0;
}

/* ---- resizes (§3.2) ---------------------------------------------------- */

#define RESIZE_REFUSED_MESSAGE \
    "Existing exports of data: object cannot be re-sized"

/* The error of a resize refused because the state was `seen`, not FREE:
 * the conflict in IMMUTABLE and EXCLUSIVE mode (and during a resize),
 * else bytearray's own message. */
static void
raise_resize_refused(PyObject *self, Py_ssize_t seen)
{
    int mode = BUFLOCK_MODE(seen);
    if (mode == BUFLOCK_IMMUTABLE || mode == BUFLOCK_EXCLUSIVE) {
        _PyBufLock_RaiseConflict(self, BUFLOCK_OWN_WRITE, seen);
    }
    else {
        PyErr_SetString(PyExc_BufferError, RESIZE_REFUSED_MESSAGE);
    }
}

typedef enum {
    RESIZE_REFUSED,     /* the error is set */
    RESIZE_HELD,        /* BUFLOCK_RESIZING: nothing else is held */
    RESIZE_AS_WRITE,    /* an own write while writable exports are held */
} resize_entry;

/* Enter the state for an operation that may change the size, after its
 * input has run.  From FREE it holds BUFLOCK_RESIZING until its last
 * write.  While writable exports are held it runs as an own write, and
 * bytearray's own rule refuses the resize (its exports are held too), with
 * its errors in today's order: pop() of an empty object is an IndexError
 * first.  Anything else refuses it. */
static resize_entry
resize_enter(PyObject *self)
{
    Py_ssize_t seen;
    if (_PyBufLock_BeginResize(LOCK_WORD(self), &seen) == 0) {
        return RESIZE_HELD;
    }
    if (BUFLOCK_MODE(seen) == BUFLOCK_SHARED) {
        return guard_enter(self, BUFLOCK_OWN_WRITE) < 0 ? RESIZE_REFUSED
                                                        : RESIZE_AS_WRITE;
    }
    raise_resize_refused(self, seen);
    return RESIZE_REFUSED;
}

/* Enter the state for an own write that keeps the size. */
static resize_entry
write_enter(PyObject *self)
{
    return guard_enter(self, BUFLOCK_OWN_WRITE) < 0 ? RESIZE_REFUSED
                                                    : RESIZE_AS_WRITE;
}

static void
resize_exit(PyObject *self, resize_entry entry)
{
    if (entry == RESIZE_HELD) {
        _PyBufLock_EndResize(LOCK_WORD(self));
    }
    else {
        guard_exit(self);
    }
}

/* ---- buffer slots ------------------------------------------------------ */

/* The mark of a Py_buffer that lba_getbuffer() filled and counted in the
 * state word.  A release ends only such an export: on 3.12+
 * bytearray.__buffer__(lb, flags) acquires through bytearray's own slot,
 * which takes nothing, but its memoryview releases through the type's slot,
 * lba_releasebuffer().  Pairing by type would drop another holder's count
 * there; the mark pairs each release with its own acquisition.
 * bytearray's slot leaves view->internal NULL (PyBuffer_FillInfo()). */
static char locked_export_mark;
#define LOCKED_EXPORT_MARK ((void *)&locked_export_mark)

static int
lba_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    _PyBufLock_Request request;
    int readonly;
    Py_ssize_t seen;

    if (_PyBufLock_CheckRequest(flags) < 0) {
        return -1;
    }
    request = _PyBufLock_Classify(flags);
    if (_PyBufLock_Acquire(LOCK_WORD(self), request, &readonly, &seen) < 0) {
        _PyBufLock_RaiseConflict(self, request, seen);
        return -1;
    }
    flags &= ~(PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE);
    if (flags == PyBUF_READ || flags == PyBUF_WRITE) {
        /* Valid beside a new bit, but 3.13 rejects it alone; bytearray
         * gives these bits no meaning anyway. */
        flags = PyBUF_SIMPLE;
    }
    if (base_getbuffer(self, view, flags) < 0) {
        _PyBufLock_Release(LOCK_WORD(self));
        return -1;
    }
    view->readonly = readonly;
    view->internal = LOCKED_EXPORT_MARK;
    return 0;
}

static void
lba_releasebuffer(PyObject *self, Py_buffer *view)
{
    int counted = (view->internal == LOCKED_EXPORT_MARK);
    view->internal = NULL;
    base_releasebuffer(self, view);
    if (counted) {
        _PyBufLock_Release(LOCK_WORD(self));
    }
}

/* ---- guarded slots ----------------------------------------------------- */

/* One wrapper per slot signature and access kind: take the state, call
 * bytearray's slot, leave the state. */
#define GUARDED_SLOT(NAME, ACCESS, RTYPE, ERRVAL, PARAMS, ARGS) \
    static RTYPE (*base_##NAME) PARAMS; \
    static RTYPE \
    lba_##NAME PARAMS \
    { \
        RTYPE result; \
        if (guard_enter(self, ACCESS) < 0) { \
            return ERRVAL; \
        } \
        result = base_##NAME ARGS; \
        guard_exit(self); \
        return result; \
    }

#define READ BUFLOCK_OWN_READ
#define WRITE BUFLOCK_OWN_WRITE
#define RESIZE (-1)     /* a method that may change the size */

GUARDED_SLOT(sq_item, READ, PyObject *, NULL,
             (PyObject *self, Py_ssize_t i), (self, i))
GUARDED_SLOT(sq_concat, READ, PyObject *, NULL,
             (PyObject *self, PyObject *other), (self, other))
GUARDED_SLOT(sq_repeat, READ, PyObject *, NULL,
             (PyObject *self, Py_ssize_t n), (self, n))
GUARDED_SLOT(sq_contains, READ, int, -1,
             (PyObject *self, PyObject *v), (self, v))
GUARDED_SLOT(mp_subscript, READ, PyObject *, NULL,
             (PyObject *self, PyObject *key), (self, key))
GUARDED_SLOT(tp_repr, READ, PyObject *, NULL, (PyObject *self), (self))
GUARDED_SLOT(tp_str, READ, PyObject *, NULL, (PyObject *self), (self))
GUARDED_SLOT(tp_richcompare, READ, PyObject *, NULL,
             (PyObject *self, PyObject *other, int op), (self, other, op))

/* bytearray % args reads the format and every bytearray argument
 * directly: each locked one is read-guarded for the duration. */
static binaryfunc base_nb_remainder;

static Py_ssize_t
guard_reads(PyObject *const *objs, Py_ssize_t n)
{
    Py_ssize_t i;
    for (i = 0; i < n; i++) {
        if (PyObject_TypeCheck(objs[i], LockingBytearray_Type)
            && guard_enter(objs[i], READ) < 0)
        {
            return i;
        }
    }
    return n;
}

static void
unguard_reads(PyObject *const *objs, Py_ssize_t n)
{
    Py_ssize_t i;
    for (i = 0; i < n; i++) {
        if (PyObject_TypeCheck(objs[i], LockingBytearray_Type)) {
            guard_exit(objs[i]);
        }
    }
}

static PyObject *
lba_nb_remainder(PyObject *left, PyObject *right)
{
    PyObject *operands[2] = {left, right};
    PyObject *const *items = NULL;
    Py_ssize_t nitems = 0, entered;
    PyObject *result = NULL;

    if (!PyByteArray_Check(left)) {
        return base_nb_remainder(left, right);      /* NotImplemented */
    }
    if (PyTuple_Check(right)) {
        items = &PyTuple_GET_ITEM(right, 0);
        nitems = PyTuple_GET_SIZE(right);
    }
    entered = guard_reads(operands, 2);
    if (entered == 2) {
        Py_ssize_t entered_items = guard_reads(items, nitems);
        if (entered_items == nitems) {
            result = base_nb_remainder(left, right);
        }
        unguard_reads(items, entered_items);
    }
    unguard_reads(operands, entered);
    return result;
}

/* ---- writes and resizes: input first, then the state ------------------- */

static ssizeobjargproc base_sq_ass_item;
static objobjargproc base_mp_ass_subscript;
static binaryfunc base_sq_inplace_concat;
static ssizeargfunc base_sq_inplace_repeat;

/* bytes and bytearray themselves (not subclasses) hand out their buffer
 * without running Python code: they are used as they are, not copied. */
#define EXACT_BYTES(obj) (PyBytes_CheckExact(obj) || PyByteArray_CheckExact(obj))

/* An index or byte value as an exact int: its __index__ runs now, before
 * the state is taken. */
static PyObject *
exact_index(PyObject *value)
{
    return PyLong_CheckExact(value) ? Py_NewRef(value) : PyNumber_Index(value);
}

static int
lba_sq_ass_item(PyObject *self, Py_ssize_t i, PyObject *value)
{
    PyObject *byte = NULL;
    resize_entry entry;
    int rc = -1;

    if (value != NULL && (byte = exact_index(value)) == NULL) {
        return -1;
    }
    entry = value == NULL ? resize_enter(self) : write_enter(self);
    if (entry != RESIZE_REFUSED) {
        rc = base_sq_ass_item(self, i, byte);
        resize_exit(self, entry);
    }
    Py_XDECREF(byte);
    return rc;
}

/* The slice `key` with exact int members, so that bytearray's unpacking
 * runs no Python code. */
static PyObject *
exact_slice(PyObject *key, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step)
{
    PySliceObject *slice = (PySliceObject *)key;
    PyObject *members[3] = {slice->start, slice->stop, slice->step};
    PyObject *result;
    int i;

    for (i = 0; i < 3; i++) {
        if (members[i] != Py_None && !PyLong_CheckExact(members[i])) {
            break;
        }
    }
    if (i == 3) {
        return Py_NewRef(key);
    }
    members[0] = PyLong_FromSsize_t(start);
    members[1] = PyLong_FromSsize_t(stop);
    members[2] = PyLong_FromSsize_t(step);
    result = NULL;
    if (members[0] != NULL && members[1] != NULL && members[2] != NULL) {
        result = PySlice_New(members[0], members[1], members[2]);
    }
    for (i = 0; i < 3; i++) {
        Py_XDECREF(members[i]);
    }
    return result;
}

/* lb[key] = value and del lb[key].  The key's and the value's Python code
 * (__index__, an iterator, __buffer__) runs first; then an assignment that
 * keeps the size is an own write and any other a resize. */
static int
lba_mp_ass_subscript(PyObject *self, PyObject *key, PyObject *value)
{
    PyObject *exact_key = NULL, *exact_value = NULL;
    int resizes, rc = -1;
    resize_entry entry;

    if (PyIndex_Check(key)) {
        if ((exact_key = exact_index(key)) == NULL) {
            return -1;
        }
        if (value != NULL && (exact_value = exact_index(value)) == NULL) {
            goto done;
        }
        resizes = (value == NULL);
    }
    else if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step, length, needed = 0;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0) {
            return -1;
        }
        if (value != NULL) {
            if (EXACT_BYTES(value)) {
                exact_value = Py_NewRef(value);
            }
            else if (PyNumber_Check(value) || PyUnicode_Check(value)) {
                /* bytearray refuses these before it changes anything */
                return base_mp_ass_subscript(self, key, value);
            }
            else if ((exact_value = PyByteArray_FromObject(value)) == NULL) {
                return -1;
            }
            needed = Py_SIZE(exact_value);
        }
        if ((exact_key = exact_slice(key, start, stop, step)) == NULL) {
            goto done;
        }
        length = PySlice_AdjustIndices(Py_SIZE(self), &start, &stop, step);
        resizes = step == 1 ? needed != length : value == NULL;
    }
    else {
        return base_mp_ass_subscript(self, key, value);  /* TypeError */
    }
    entry = resizes ? resize_enter(self) : write_enter(self);
    if (entry != RESIZE_REFUSED) {
        rc = base_mp_ass_subscript(self, exact_key, exact_value);
        resize_exit(self, entry);
    }
done:
    Py_XDECREF(exact_key);
    Py_XDECREF(exact_value);
    return rc;
}

/* lb += other: other's bytes are copied out before the state is taken
 * (its __buffer__ may run Python code). */
static PyObject *
lba_sq_inplace_concat(PyObject *self, PyObject *other)
{
    PyObject *items, *result = NULL;
    resize_entry entry;

    if (!PyObject_CheckBuffer(other)) {
        return base_sq_inplace_concat(self, other);     /* TypeError */
    }
    if (other == self) {
        /* bytearray exports itself for the copy and then refuses to grow
         * while exported: keep that, as an own write. */
        if (write_enter(self) == RESIZE_REFUSED) {
            return NULL;
        }
        result = base_sq_inplace_concat(self, other);
        guard_exit(self);
        return result;
    }
    if (guard_check(self, BUFLOCK_OWN_WRITE) < 0) {
        return NULL;
    }
    if (EXACT_BYTES(other)) {
        items = Py_NewRef(other);
    }
    else if ((items = PyBytes_FromObject(other)) == NULL) {
        return NULL;
    }
    if (Py_SIZE(items) == 0) {
        Py_DECREF(items);
        return Py_NewRef(self);     /* not a resize: allowed while exported */
    }
    entry = resize_enter(self);
    if (entry != RESIZE_REFUSED) {
        result = base_sq_inplace_concat(self, items);
        resize_exit(self, entry);
    }
    Py_DECREF(items);
    return result;
}

static PyObject *
lba_sq_inplace_repeat(PyObject *self, Py_ssize_t n)
{
    PyObject *result = NULL;
    resize_entry entry;

    if (guard_check(self, BUFLOCK_OWN_WRITE) < 0) {
        return NULL;
    }
    if (n == 1 || Py_SIZE(self) == 0) {
        return Py_NewRef(self);     /* not a resize: allowed while exported */
    }
    entry = resize_enter(self);
    if (entry != RESIZE_REFUSED) {
        result = base_sq_inplace_repeat(self, n);
        resize_exit(self, entry);
    }
    return result;
}

/* Calling __init__ again replaces the contents.  Its arguments (iterator,
 * codec, __index__, __buffer__) run first, into a new bytearray, so that an
 * export granted from inside them sees the old contents; then the contents
 * change in one resize, or not at all. */
static int
lba_tp_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *contents;
    Py_ssize_t size, seen;
    int rc = 0;

    if (guard_check(self, BUFLOCK_OWN_WRITE) < 0) {
        return -1;
    }
    contents = PyObject_Call((PyObject *)&PyByteArray_Type, args, kwds);
    if (contents == NULL) {
        return -1;
    }
    size = PyByteArray_GET_SIZE(contents);
    if (size == 0 && Py_SIZE(self) == 0) {
        /* not a resize: allowed while exported */
    }
    else if (_PyBufLock_BeginResize(LOCK_WORD(self), &seen) < 0) {
        raise_resize_refused(self, seen);
        rc = -1;
    }
    else {
        rc = PyByteArray_Resize(self, size);
        if (rc == 0 && size > 0) {
            memcpy(PyByteArray_AS_STRING(self),
                   PyByteArray_AS_STRING(contents), size);
        }
        _PyBufLock_EndResize(LOCK_WORD(self));
    }
    Py_DECREF(contents);
    return rc;
}

/* Iteration goes through sq_item, so every step is checked (§3.2). */
static PyObject *
lba_iter(PyObject *self)
{
    return PySeqIter_New(self);
}

/* ---- guarded methods --------------------------------------------------- */

#define LBA_METHODS(X) \
    X(append, RESIZE) X(clear, RESIZE) X(extend, RESIZE) X(insert, RESIZE) \
    X(pop, RESIZE) X(remove, RESIZE) X(reverse, WRITE) \
    X(capitalize, READ) X(center, READ) X(copy, READ) X(count, READ) \
    X(decode, READ) X(endswith, READ) X(expandtabs, READ) X(find, READ) \
    X(hex, READ) X(index, READ) X(isalnum, READ) X(isalpha, READ) \
    X(isascii, READ) X(isdigit, READ) X(islower, READ) X(isspace, READ) \
    X(istitle, READ) X(isupper, READ) X(join, READ) X(ljust, READ) \
    X(lower, READ) X(lstrip, READ) X(partition, READ) \
    X(removeprefix, READ) X(removesuffix, READ) X(replace, READ) \
    X(rfind, READ) X(rindex, READ) X(rjust, READ) X(rpartition, READ) \
    X(rsplit, READ) X(rstrip, READ) X(split, READ) X(splitlines, READ) \
    X(startswith, READ) X(strip, READ) X(swapcase, READ) X(title, READ) \
    X(translate, READ) X(upper, READ) X(zfill, READ) \
    X(__reduce__, READ) X(__reduce_ex__, READ)

#define METHOD_INDEX(NAME, ACCESS) M_##NAME,
enum { LBA_METHODS(METHOD_INDEX) M_COUNT };

/* bytearray's method descriptors, looked up once at init. */
static PyObject *base_methods[M_COUNT];

/* Call bytearray's method number `index` on self. */
static PyObject *
call_base(int index, PyObject *self, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    PyObject *small_stack[8];
    PyObject **stack = small_stack;
    Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *result;

    if (total + 1 > (Py_ssize_t)Py_ARRAY_LENGTH(small_stack)) {
        stack = PyMem_New(PyObject *, total + 1);
        if (stack == NULL) {
            return PyErr_NoMemory();
        }
    }
    stack[0] = self;
    memcpy(stack + 1, args, total * sizeof(PyObject *));
    result = PyObject_Vectorcall(base_methods[index], stack, nargs + 1,
                                 kwnames);
    if (stack != small_stack) {
        PyMem_Free(stack);
    }
    return result;
}

static PyObject *
call_guarded(PyObject *self, _PyBufLock_Request access, int index,
             PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *result;
    if (guard_enter(self, access) < 0) {
        return NULL;
    }
    result = call_base(index, self, args, nargs, kwnames);
    guard_exit(self);
    return result;
}

/* The items extend() appends, run out of its argument (iterator,
 * __buffer__, __index__) into an object no other code sees, with
 * bytearray.extend()'s own errors. */
static PyObject *
collect_items(PyObject *iterable)
{
    PyObject *items, *done;
    if (EXACT_BYTES(iterable)) {
        return Py_NewRef(iterable);
    }
    items = PyByteArray_FromStringAndSize(NULL, 0);
    if (items == NULL) {
        return NULL;
    }
    done = call_base(M_extend, items, &iterable, 1, NULL);
    if (done == NULL) {
        Py_DECREF(items);
        return NULL;
    }
    Py_DECREF(done);
    return items;
}

/* append, clear, extend, insert, pop, remove: the methods that may change
 * the size.  Their arguments run first (__index__, extend's iterable), then
 * the method runs under resize_enter(), so that an export granted from
 * inside an argument sees the old contents and the method is then refused
 * without a trace (§3.2). */
static PyObject *
call_resizing(PyObject *self, int index, PyObject *const *args,
              Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *exact[2] = {NULL, NULL};
    PyObject *result = NULL;
    Py_ssize_t i, min_args, max_args;
    int resizes = 1;
    resize_entry entry;

    switch (index) {
    case M_clear: min_args = 0; max_args = 0; break;
    case M_pop: min_args = 0; max_args = 1; break;
    case M_insert: min_args = 2; max_args = 2; break;
    default: min_args = 1; max_args = 1; break;
    }
    if (kwnames != NULL || nargs < min_args || nargs > max_args) {
        /* bytearray refuses the call before it changes anything */
        return call_base(index, self, args, nargs, kwnames);
    }
    if (index == M_extend) {
        if (guard_check(self, BUFLOCK_OWN_WRITE) < 0
            || (exact[0] = collect_items(args[0])) == NULL)
        {
            return NULL;
        }
        resizes = Py_SIZE(exact[0]) != 0;
    }
    else {
        for (i = 0; i < nargs; i++) {
            if ((exact[i] = exact_index(args[i])) == NULL) {
                goto done;
            }
        }
        if (index == M_clear) {
            resizes = Py_SIZE(self) != 0;
        }
    }
    entry = resizes ? resize_enter(self) : write_enter(self);
    if (entry != RESIZE_REFUSED) {
        result = call_base(index, self, exact, nargs, NULL);
        resize_exit(self, entry);
    }
done:
    for (i = 0; i < nargs; i++) {
        Py_XDECREF(exact[i]);
    }
    return result;
}

/* RESIZE methods go through call_resizing(), the others hold READ or
 * WRITE for the call. */
#define METHOD_WRAPPER(NAME, ACCESS) \
    static PyObject * \
    lba_##NAME(PyObject *self, PyObject *const *args, Py_ssize_t nargs, \
               PyObject *kwnames) \
    { \
        if ((ACCESS) == RESIZE) { \
            return call_resizing(self, M_##NAME, args, nargs, kwnames); \
        } \
        return call_guarded(self, (_PyBufLock_Request)(ACCESS), M_##NAME, \
                            args, nargs, kwnames); \
    }
LBA_METHODS(METHOD_WRAPPER)

/* ml_doc is filled from bytearray's own docstrings at init. */
#define METHOD_DEF(NAME, ACCESS) \
    {#NAME, (PyCFunction)(void (*)(void))lba_##NAME, \
     METH_FASTCALL | METH_KEYWORDS, NULL},
static PyMethodDef lba_methods[] = {
    LBA_METHODS(METHOD_DEF)
    {NULL, NULL, 0, NULL}
};

PyDoc_STRVAR(lba_doc,
"LockingBytearray(source=b'', encoding=..., errors=...)\n\
--\n\
\n\
A bytearray that enforces mutable-XOR-shared for every consumer.\n\
\n\
While an immutable export is held, every write and writable export is\n\
refused with BufferError; while an exclusive export is held, every other\n\
export and the object's own reads are refused too.  With no export held\n\
it behaves exactly as a bytearray.");

static PyType_Slot lba_slots[] = {
    {Py_tp_doc, (void *)lba_doc},
    {Py_tp_init, lba_tp_init},
    {Py_tp_iter, lba_iter},
    {Py_tp_repr, lba_tp_repr},
    {Py_tp_str, lba_tp_str},
    {Py_tp_richcompare, lba_tp_richcompare},
    {Py_tp_methods, lba_methods},
    {Py_bf_getbuffer, lba_getbuffer},
    {Py_bf_releasebuffer, lba_releasebuffer},
    {Py_sq_item, lba_sq_item},
    {Py_sq_ass_item, lba_sq_ass_item},
    {Py_sq_concat, lba_sq_concat},
    {Py_sq_repeat, lba_sq_repeat},
    {Py_sq_contains, lba_sq_contains},
    {Py_sq_inplace_concat, lba_sq_inplace_concat},
    {Py_sq_inplace_repeat, lba_sq_inplace_repeat},
    {Py_mp_subscript, lba_mp_subscript},
    {Py_mp_ass_subscript, lba_mp_ass_subscript},
    {Py_nb_remainder, lba_nb_remainder},
    {0, NULL}
};

static PyType_Spec lba_spec = {
    .name = "bufferflags.LockingBytearray",
    .basicsize = sizeof(LockingBytearrayObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE
             | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = lba_slots,
};

static int
load_bytearray_base(void)
{
    PySequenceMethods *sq = PyByteArray_Type.tp_as_sequence;
    PyMappingMethods *mp = PyByteArray_Type.tp_as_mapping;
    PyMethodDef *def;
    int i = 0;

    base_getbuffer = PyByteArray_Type.tp_as_buffer->bf_getbuffer;
    base_releasebuffer = PyByteArray_Type.tp_as_buffer->bf_releasebuffer;
    base_sq_item = sq->sq_item;
    base_sq_ass_item = sq->sq_ass_item;
    base_sq_concat = sq->sq_concat;
    base_sq_repeat = sq->sq_repeat;
    base_sq_contains = sq->sq_contains;
    base_sq_inplace_concat = sq->sq_inplace_concat;
    base_sq_inplace_repeat = sq->sq_inplace_repeat;
    base_mp_subscript = mp->mp_subscript;
    base_mp_ass_subscript = mp->mp_ass_subscript;
    base_tp_repr = PyByteArray_Type.tp_repr;
    base_tp_str = PyByteArray_Type.tp_str;
    base_tp_richcompare = PyByteArray_Type.tp_richcompare;
    base_nb_remainder = PyByteArray_Type.tp_as_number->nb_remainder;

    for (def = lba_methods; def->ml_name != NULL; def++, i++) {
        /* Not tp_dict: static builtin types have none since 3.12. */
        PyObject *descr = PyObject_GetAttrString(
            (PyObject *)&PyByteArray_Type, def->ml_name);
        if (descr == NULL) {
            return -1;
        }
        if (!PyObject_TypeCheck(descr, &PyMethodDescr_Type)) {
            PyErr_Format(PyExc_RuntimeError,
                         "bytearray.%s is not a method: unsupported Python",
                         def->ml_name);
            Py_DECREF(descr);
            return -1;
        }
        base_methods[i] = descr;
        def->ml_doc = ((PyMethodDescrObject *)descr)->d_method->ml_doc;
    }
    return 0;
}

/* ---- Export: one acquisition with explicit request flags ---------------- */

typedef struct {
    PyObject_HEAD
    Py_buffer master;
    int held;           /* master is acquired and not yet released */
    int readonly;       /* what re-exports report */
    int granted;        /* PyBUF_IMMUTABLE / PyBUF_EXCLUSIVE granted */
    Py_ssize_t exports;
} ExportObject;

static PyTypeObject *Export_Type;

static void
export_release_master(ExportObject *self)
{
    if (self->held) {
        self->held = 0;
        PyBuffer_Release(&self->master);
    }
}

static int
export_getbuffer(PyObject *op, Py_buffer *view, int flags)
{
    ExportObject *self = (ExportObject *)op;
    if (!self->held) {
        PyErr_SetString(PyExc_ValueError,
                        "operation forbidden on released buffer export");
        return -1;
    }
    if ((flags & PyBUF_WRITABLE) && self->readonly) {
        PyErr_SetString(PyExc_BufferError, "Object is not writable.");
        return -1;
    }
    *view = self->master;
    view->readonly = self->readonly;
    view->obj = Py_NewRef(op);
    view->internal = NULL;
    self->exports++;
    return 0;
}

/* The export ends with its last consumer, not at garbage collection: a
 * memoryview.release() must unlock the object at once. */
static void
export_releasebuffer(PyObject *op, Py_buffer *Py_UNUSED(view))
{
    ExportObject *self = (ExportObject *)op;
    if (--self->exports == 0) {
        export_release_master(self);
    }
}

/* An export keeps its exporter alive, and the exporter may keep the
 * memoryview over the export (lb.view = view(lb)): the collector must see
 * that reference to find such a cycle.  Clearing the memoryview or its
 * managed buffer then releases the export, so Export needs no tp_clear.
 * A memoryview exporter (a forwarded view) is not visited: a memoryview
 * that the collector clears while it is still exported can crash when the
 * export is released afterwards (seen on 3.11 by the stress state machine);
 * CPython itself never lets a collectable object hold a memoryview's
 * export -- views of views share one managed buffer.  Such a cycle is
 * left uncollected instead. */
static int
export_traverse(PyObject *op, visitproc visit, void *arg)
{
    ExportObject *self = (ExportObject *)op;
    Py_VISIT(Py_TYPE(op));
    if (self->held && !PyMemoryView_Check(self->master.obj)) {
        Py_VISIT(self->master.obj);
    }
    return 0;
}

static void
export_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    export_release_master((ExportObject *)op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyObject *
export_get_granted(PyObject *op, void *Py_UNUSED(closure))
{
    ExportObject *self = (ExportObject *)op;
    return PyLong_FromLong(self->held ? self->granted : 0);
}

static PyGetSetDef export_getset[] = {
    {"granted", export_get_granted, NULL,
     "The guarantee flags this export was granted (0 once released).", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyType_Slot export_slots[] = {
    {Py_tp_doc, (void *)"One buffer acquisition made with explicit flags."},
    {Py_tp_dealloc, export_dealloc},
    {Py_tp_traverse, export_traverse},
    {Py_tp_getset, export_getset},
    {Py_bf_getbuffer, export_getbuffer},
    {Py_bf_releasebuffer, export_releasebuffer},
    {0, NULL}
};

static PyType_Spec export_spec = {
    .name = "bufferflags._native.Export",
    .basicsize = sizeof(ExportObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC
             | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = export_slots,
};

/* The guarantee a request asks for, as granted flags (§2: an exclusive
 * read is also immutable). */
static int
requested_guarantee(int flags)
{
    if ((flags & PyBUF_EXCLUSIVE) && !(flags & PyBUF_WRITABLE)) {
        return PyBUF_EXCLUSIVE | PyBUF_IMMUTABLE;
    }
    return flags & (PyBUF_EXCLUSIVE | PyBUF_IMMUTABLE);
}

/* A request's flags are a C int, as in wrap_buffer(). */
static int
flags_from_object(PyObject *obj, int *flags)
{
    long value = PyLong_AsLong(obj);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (value < INT_MIN || value > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError,
                        "buffer flags too large to convert to C int");
        return -1;
    }
    *flags = (int)value;
    return 0;
}

/* acquire(obj, flags, readonly) -> memoryview
 *
 * Requests a buffer from obj with exactly `flags`, as a C consumer calling
 * PyObject_GetBuffer() would, and returns a memoryview over it.  With
 * readonly true the memoryview is read-only whatever was granted.  The
 * caller has checked supported flags (the registry lives in Python). */
static PyObject *
acquire_view(PyObject *obj, int flags, int force_readonly)
{
    ExportObject *export;
    PyObject *result;

    if (_PyBufLock_CheckRequest(flags) < 0) {
        return NULL;
    }
    export = PyObject_GC_New(ExportObject, Export_Type);
    if (export == NULL) {
        return NULL;
    }
    export->held = 0;
    export->exports = 0;
    export->granted = requested_guarantee(flags);
    if (PyObject_GetBuffer(obj, &export->master, flags) < 0) {
        Py_DECREF(export);
        return NULL;
    }
    export->held = 1;
    PyObject_GC_Track(export);
    if (export->granted && !export->master.readonly
        && !(flags & PyBUF_WRITABLE))
    {
        /* Never pass on a guarantee the exporter visibly did not keep. */
        PyErr_Format(PyExc_BufferError,
                     "%.200s granted a writable buffer for PyBUF_%s: "
                     "its declared support is wrong",
                     Py_TYPE(obj)->tp_name,
                     (flags & PyBUF_EXCLUSIVE) ? "EXCLUSIVE" : "IMMUTABLE");
        Py_DECREF(export);
        return NULL;
    }
    export->readonly = force_readonly || export->master.readonly;
    result = PyMemoryView_FromObject((PyObject *)export);
    Py_DECREF(export);
    return result;
}

static PyObject *
native_acquire(PyObject *Py_UNUSED(module), PyObject *const *args,
               Py_ssize_t nargs)
{
    int flags, force_readonly;

    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "acquire() takes 3 arguments");
        return NULL;
    }
    if (flags_from_object(args[1], &flags) < 0) {
        return NULL;
    }
    force_readonly = PyObject_IsTrue(args[2]);
    if (force_readonly < 0) {
        return NULL;
    }
    return acquire_view(args[0], flags, force_readonly);
}

/* view(obj, *, immutable=False, exclusive=False, writable=False,
 *      fallback=None) -> memoryview
 *
 * bufferflags.view()'s common case in C: well-formed keywords, no fallback
 * and an exact type the registry declares.  Everything else (errors,
 * inheritance, forwarding, fallback="copy") goes to the Python
 * implementation set by configure_view(), which has the same signature. */
static PyObject *declared_bits;     /* registry: exact type -> int flags */
static PyObject *view_slow_path;

static PyObject *
native_view(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs,
            PyObject *kwnames)
{
    Py_ssize_t i, nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    int flags = PyBUF_FULL_RO, writable = 0;
    PyObject *declared;
    long bits;

    if (nargs != 1 || view_slow_path == NULL) {
        goto slow;
    }
    for (i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        PyObject *value = args[nargs + i];
        int truth, bit;
        if (PyUnicode_CompareWithASCIIString(name, "immutable") == 0) {
            bit = PyBUF_IMMUTABLE;
        }
        else if (PyUnicode_CompareWithASCIIString(name, "exclusive") == 0) {
            bit = PyBUF_EXCLUSIVE;
        }
        else if (PyUnicode_CompareWithASCIIString(name, "writable") == 0) {
            bit = PyBUF_WRITABLE;
        }
        else {
            goto slow;      /* fallback=, or an unknown keyword */
        }
        truth = PyObject_IsTrue(value);
        if (truth < 0) {
            return NULL;
        }
        if (truth) {
            flags |= bit;
        }
    }
    writable = flags & PyBUF_WRITABLE;
    if (_PyBufLock_Contradictory(flags)) {
        goto slow;
    }
    if (flags & (PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE)) {
        if (PyMemoryView_Check(args[0])) {
            goto slow;      /* forwarding is decided per instance */
        }
        declared = PyDict_GetItemWithError(declared_bits,
                                           (PyObject *)Py_TYPE(args[0]));
        if (declared == NULL) {
            if (PyErr_Occurred()) {
                return NULL;
            }
            goto slow;
        }
        bits = PyLong_AsLong(declared);
        if (bits == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if ((flags & (PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE) & ~bits) != 0) {
            goto slow;
        }
    }
    return acquire_view(args[0], flags, !writable);
slow:
    if (view_slow_path == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "view() is not configured");
        return NULL;
    }
    return PyObject_Vectorcall(view_slow_path, args, nargs, kwnames);
}

/* configure_view(declared_bits, slow_path): wire native_view() to the
 * registry dict and to the Python implementation. */
static PyObject *
native_configure_view(PyObject *Py_UNUSED(module), PyObject *const *args,
                      Py_ssize_t nargs)
{
    if (nargs != 2 || !PyDict_Check(args[0]) || !PyCallable_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError,
                        "configure_view() takes a dict and a callable");
        return NULL;
    }
    Py_XSETREF(declared_bits, Py_NewRef(args[0]));
    Py_XSETREF(view_slow_path, Py_NewRef(args[1]));
    Py_RETURN_NONE;
}

/* lock_state(obj) -> (mode, count), for tests and debugging. */
static PyObject *
native_lock_state(PyObject *Py_UNUSED(module), PyObject *obj)
{
    Py_ssize_t word;
    if (!PyObject_TypeCheck(obj, LockingBytearray_Type)) {
        PyErr_Format(PyExc_TypeError, "expected LockingBytearray, not %.200s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    word = BUFLOCK_LOAD(LOCK_WORD(obj));
    return Py_BuildValue("in", BUFLOCK_MODE(word), BUFLOCK_COUNT(word));
}

/* same_buffer_procs(t, d) -> bool: t exports exactly as d does (§5). */
static PyObject *
native_same_buffer_procs(PyObject *Py_UNUSED(module), PyObject *const *args,
                         Py_ssize_t nargs)
{
    PyBufferProcs *a, *b;
    if (nargs != 2 || !PyType_Check(args[0]) || !PyType_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError,
                        "same_buffer_procs() takes two types");
        return NULL;
    }
    a = ((PyTypeObject *)args[0])->tp_as_buffer;
    b = ((PyTypeObject *)args[1])->tp_as_buffer;
    if (a == NULL || b == NULL) {
        return PyBool_FromLong(a == b);
    }
    return PyBool_FromLong(a->bf_getbuffer == b->bf_getbuffer
                           && a->bf_releasebuffer == b->bf_releasebuffer);
}

static PyObject *
native_is_buffer(PyObject *Py_UNUSED(module), PyObject *obj)
{
    return PyBool_FromLong(PyObject_CheckBuffer(obj));
}

static PyMethodDef native_functions[] = {
    {"acquire", (PyCFunction)(void (*)(void))native_acquire, METH_FASTCALL,
     "acquire(obj, flags, readonly) -> memoryview over one acquisition"},
    {"view", (PyCFunction)(void (*)(void))native_view,
     METH_FASTCALL | METH_KEYWORDS,
     "view($module, obj, /, *, immutable=False, exclusive=False, "
     "writable=False, fallback=None)\n--\n\n"
     "A memoryview of obj that carries the requested guarantees."},
    {"configure_view", (PyCFunction)(void (*)(void))native_configure_view,
     METH_FASTCALL, "configure_view(declared_bits, slow_path)"},
    {"lock_state", native_lock_state, METH_O,
     "lock_state(obj) -> (mode, count) of a LockingBytearray"},
    {"same_buffer_procs", (PyCFunction)(void (*)(void))native_same_buffer_procs,
     METH_FASTCALL, "same_buffer_procs(t, d) -> whether t exports as d"},
    {"is_buffer", native_is_buffer, METH_O,
     "is_buffer(obj) -> whether obj supports the buffer protocol"},
    {NULL, NULL, 0, NULL}
};

static int
publish(PyObject *ns, const char *name, PyObject *value)
{
    int rc;
    if (value == NULL) {
        return -1;
    }
    rc = PyDict_SetItemString(ns, name, value);
    Py_DECREF(value);
    return rc;
}

static int
init_with_gil(PyObject *ns)
{
    PyObject *bases;
    PyMethodDef *def;

    if (!PyDict_Check(ns)) {
        PyErr_SetString(PyExc_TypeError, "bufferflags_init needs a dict");
        return -1;
    }
    if (LockingBytearray_Type == NULL) {
        if (load_bytearray_base() < 0) {
            return -1;
        }
        bases = PyTuple_Pack(1, (PyObject *)&PyByteArray_Type);
        if (bases == NULL) {
            return -1;
        }
        LockingBytearray_Type = (PyTypeObject *)PyType_FromSpecWithBases(
            &lba_spec, bases);
        Py_DECREF(bases);
        if (LockingBytearray_Type == NULL) {
            return -1;
        }
        Export_Type = (PyTypeObject *)PyType_FromSpec(&export_spec);
        if (Export_Type == NULL) {
            Py_CLEAR(LockingBytearray_Type);
            return -1;
        }
    }
    if (publish(ns, "LockingBytearray",
                Py_NewRef(LockingBytearray_Type)) < 0
        || publish(ns, "Export", Py_NewRef(Export_Type)) < 0
        || publish(ns, "PyBUF_IMMUTABLE", PyLong_FromLong(PyBUF_IMMUTABLE)) < 0
        || publish(ns, "PyBUF_EXCLUSIVE", PyLong_FromLong(PyBUF_EXCLUSIVE)) < 0)
    {
        return -1;
    }
    for (def = native_functions; def->ml_name != NULL; def++) {
        if (publish(ns, def->ml_name, PyCFunction_New(def, NULL)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The one cffi entry point.  cffi calls it without the GIL.  Returns 0, or
 * -1 with the exception stored in ns["error"]. */
int
bufferflags_init(intptr_t namespace_id)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *ns = (PyObject *)namespace_id;
    int rc = init_with_gil(ns);
    if (rc < 0) {
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyErr_NormalizeException(&type, &value, &traceback);
        if (PyDict_Check(ns) && value != NULL) {
            PyDict_SetItemString(ns, "error", value);
        }
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(traceback);
    }
    PyGILState_Release(gil);
    return rc;
}
