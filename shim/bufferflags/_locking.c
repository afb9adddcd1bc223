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
 * contents holds the state for its duration (§3.2).
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

/* ---- buffer slots ------------------------------------------------------ */

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
    return 0;
}

static void
lba_releasebuffer(PyObject *self, Py_buffer *view)
{
    base_releasebuffer(self, view);
    _PyBufLock_Release(LOCK_WORD(self));
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

GUARDED_SLOT(sq_item, READ, PyObject *, NULL,
             (PyObject *self, Py_ssize_t i), (self, i))
GUARDED_SLOT(sq_ass_item, WRITE, int, -1,
             (PyObject *self, Py_ssize_t i, PyObject *v), (self, i, v))
GUARDED_SLOT(sq_concat, READ, PyObject *, NULL,
             (PyObject *self, PyObject *other), (self, other))
GUARDED_SLOT(sq_repeat, READ, PyObject *, NULL,
             (PyObject *self, Py_ssize_t n), (self, n))
GUARDED_SLOT(sq_contains, READ, int, -1,
             (PyObject *self, PyObject *v), (self, v))
GUARDED_SLOT(sq_inplace_concat, WRITE, PyObject *, NULL,
             (PyObject *self, PyObject *other), (self, other))
GUARDED_SLOT(sq_inplace_repeat, WRITE, PyObject *, NULL,
             (PyObject *self, Py_ssize_t n), (self, n))
GUARDED_SLOT(mp_subscript, READ, PyObject *, NULL,
             (PyObject *self, PyObject *key), (self, key))
GUARDED_SLOT(mp_ass_subscript, WRITE, int, -1,
             (PyObject *self, PyObject *key, PyObject *v), (self, key, v))
GUARDED_SLOT(tp_repr, READ, PyObject *, NULL, (PyObject *self), (self))
GUARDED_SLOT(tp_str, READ, PyObject *, NULL, (PyObject *self), (self))
GUARDED_SLOT(tp_richcompare, READ, PyObject *, NULL,
             (PyObject *self, PyObject *other, int op), (self, other, op))
GUARDED_SLOT(tp_init, WRITE, int, -1,
             (PyObject *self, PyObject *args, PyObject *kwds),
             (self, args, kwds))

/* A binary slot: the locked object may be either operand. */
static binaryfunc base_nb_remainder;

static PyObject *
lba_nb_remainder(PyObject *left, PyObject *right)
{
    PyObject *result;
    if (!PyObject_TypeCheck(left, LockingBytearray_Type)) {
        return base_nb_remainder(left, right);
    }
    if (guard_enter(left, READ) < 0) {
        return NULL;
    }
    result = base_nb_remainder(left, right);
    guard_exit(left);
    return result;
}

/* Iteration goes through sq_item, so every step is checked (§3.2). */
static PyObject *
lba_iter(PyObject *self)
{
    return PySeqIter_New(self);
}

/* ---- guarded methods --------------------------------------------------- */

#define LBA_METHODS(X) \
    X(append, WRITE) X(clear, WRITE) X(extend, WRITE) X(insert, WRITE) \
    X(pop, WRITE) X(remove, WRITE) X(reverse, WRITE) \
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

static PyObject *
call_guarded(PyObject *self, _PyBufLock_Request access, PyObject *method,
             PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
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
    if (guard_enter(self, access) < 0) {
        result = NULL;
    }
    else {
        result = PyObject_Vectorcall(method, stack, nargs + 1, kwnames);
        guard_exit(self);
    }
    if (stack != small_stack) {
        PyMem_Free(stack);
    }
    return result;
}

#define METHOD_WRAPPER(NAME, ACCESS) \
    static PyObject * \
    lba_##NAME(PyObject *self, PyObject *const *args, Py_ssize_t nargs, \
               PyObject *kwnames) \
    { \
        return call_guarded(self, ACCESS, base_methods[M_##NAME], \
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
    base_tp_init = PyByteArray_Type.tp_init;
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

static void
export_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
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
    {Py_tp_getset, export_getset},
    {Py_bf_getbuffer, export_getbuffer},
    {Py_bf_releasebuffer, export_releasebuffer},
    {0, NULL}
};

static PyType_Spec export_spec = {
    .name = "bufferflags._native.Export",
    .basicsize = sizeof(ExportObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE
             | Py_TPFLAGS_DISALLOW_INSTANTIATION,
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
    export = PyObject_New(ExportObject, Export_Type);
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
