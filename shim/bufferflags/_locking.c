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
 * (_Py_BUFLOCK_RESIZING), so an export granted from inside the input sees the
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

/* The state machine is CPython's Include/internal/pycore_buflock.h, byte
 * for byte; it asks its includer for a load, a compare-and-swap and the
 * exception raised for conflicts. */
static PyObject *conflict_error_type(void);

#define _Py_BUFLOCK_OUTSIDE_CORE
#define _Py_BUFLOCK_LOAD(ptr) __atomic_load_n((ptr), __ATOMIC_ACQUIRE)
#define _Py_BUFLOCK_CAS(ptr, expected, desired) \
    __atomic_compare_exchange_n((ptr), (expected), (desired), 0, \
                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
#define _Py_BUFLOCK_CONFLICT_ERROR conflict_error_type()
#include "_buflock.h"

/* The exception for a refusal because of a held state (semantics.md §6):
 * BufferConflictError, made (or taken from builtins) by _c_api.c at
 * import; BufferError before that. */
static PyObject *conflict_error;

static PyObject *
conflict_error_type(void)
{
    return conflict_error != NULL ? conflict_error : PyExc_BufferError;
}

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

/* End the own operation that guard_enter(self, request) entered. */
#define guard_exit(self, request) \
    _PyBufLock_Leave(LOCK_WORD(self), (request))

/* Refuse an own operation that the state refuses now, without entering
 * it: checked before an operation runs its input, so that the input is not
 * consumed by an operation that is then refused anyway. */
static int
guard_check(PyObject *self, _PyBufLock_Request request)
{
    Py_ssize_t seen = _Py_BUFLOCK_LOAD(LOCK_WORD(self));
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
    int mode = _Py_BUFLOCK_MODE(seen);
    if (mode == _Py_BUFLOCK_IMMUTABLE || mode == _Py_BUFLOCK_EXCLUSIVE) {
        _PyBufLock_RaiseConflict(self, _Py_BUFLOCK_OWN_WRITE, seen);
    }
    else {
        PyErr_SetString(PyExc_BufferError, RESIZE_REFUSED_MESSAGE);
    }
}

typedef enum {
    RESIZE_REFUSED,     /* the error is set */
    RESIZE_HELD,        /* _Py_BUFLOCK_RESIZING: nothing else is held */
    RESIZE_AS_WRITE,    /* an own write while writable exports are held */
} resize_entry;

/* Enter the state for an operation that may change the size, after its
 * input has run.  From FREE it holds _Py_BUFLOCK_RESIZING until its last
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
    if (_Py_BUFLOCK_MODE(seen) == _Py_BUFLOCK_SHARED) {
        return guard_enter(self, _Py_BUFLOCK_OWN_WRITE) < 0 ? RESIZE_REFUSED
                                                        : RESIZE_AS_WRITE;
    }
    raise_resize_refused(self, seen);
    return RESIZE_REFUSED;
}

/* Enter the state for an own write that keeps the size. */
static resize_entry
write_enter(PyObject *self)
{
    return guard_enter(self, _Py_BUFLOCK_OWN_WRITE) < 0 ? RESIZE_REFUSED
                                                    : RESIZE_AS_WRITE;
}

static void
resize_exit(PyObject *self, resize_entry entry)
{
    if (entry == RESIZE_HELD) {
        _PyBufLock_EndResize(LOCK_WORD(self));
    }
    else {
        guard_exit(self, _Py_BUFLOCK_OWN_WRITE);
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
    int readonly = 0;

    if (_PyBufLock_CheckRequest(flags) < 0) {
        return -1;
    }
    if (!_PyBufLock_TryExportWritable(LOCK_WORD(self), flags)
        && _PyBufLock_Export(self, LOCK_WORD(self), flags, &readonly) < 0)
    {
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

/* ---- arguments first (§3.2) -------------------------------------------- */

/* An own operation runs its arguments' Python code (__index__, __len__ of a
 * str subclass, an operand's __buffer__, an iterable, __bool__, a codec
 * lookup) before it takes the state, and then none while it holds it: the
 * helpers below turn an argument into an equivalent one whose use runs no
 * Python code.  An argument of the wrong type is passed on unchanged, so
 * that bytearray raises its own error for it. */

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

/* A byte value as an exact int in range(0, 256): its __index__ runs now,
 * and an out-of-range value raises bytearray's own ValueError now, before
 * the state is checked (§3.2 "Arguments first"), as natively. */
static PyObject *
exact_byte(PyObject *value)
{
    PyObject *byte = exact_index(value);
    int overflow;
    long ival;

    if (byte == NULL) {
        return NULL;
    }
    ival = PyLong_AsLongAndOverflow(byte, &overflow);
    if (ival == -1 && PyErr_Occurred()) {
        Py_DECREF(byte);
        return NULL;
    }
    if (overflow || ival < 0 || ival >= 256) {
        PyErr_SetString(PyExc_ValueError, "byte must be in range(0, 256)");
        Py_DECREF(byte);
        return NULL;
    }
    return byte;
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

/* A read's index, bound or count: an int with __index__ becomes an int;
 * anything else is passed on (bytearray raises its TypeError). */
static PyObject *
converted_index(PyObject *value)
{
    if (PyLong_Check(value) || !PyIndex_Check(value)) {
        return Py_NewRef(value);
    }
    return PyNumber_Index(value);
}

/* Buffers whose acquisition runs no Python code. */
#define EXACT_BUFFER(obj) \
    (EXACT_BYTES(obj) || Py_IS_TYPE((obj), &PyMemoryView_Type))

/* A bytes-like operand: its __buffer__ runs now, and bytearray then reads
 * the memoryview over that export.  A locked operand's state is checked
 * now, too. */
static PyObject *
converted_buffer(PyObject *operand)
{
    if (EXACT_BUFFER(operand) || !PyObject_CheckBuffer(operand)) {
        return Py_NewRef(operand);
    }
    return PyMemoryView_FromObject(operand);
}

/* The `sub` of find(), count(), ...: bytes-like, else a byte value. */
static PyObject *
converted_sub(PyObject *sub)
{
    return PyObject_CheckBuffer(sub) ? converted_buffer(sub)
                                     : converted_index(sub);
}

/* startswith()/endswith(): bytes-like, or a tuple of them. */
static PyObject *
converted_affix(PyObject *affix)
{
    PyObject *result;
    Py_ssize_t i, n;

    if (!PyTuple_Check(affix)) {
        return converted_buffer(affix);
    }
    n = PyTuple_GET_SIZE(affix);
    result = PyTuple_New(n);
    if (result == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        PyObject *item = converted_buffer(PyTuple_GET_ITEM(affix, i));
        if (item == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        PyTuple_SET_ITEM(result, i, item);
    }
    return result;
}

/* splitlines()'s keepends: a truth value from 3.12, an int before. */
static PyObject *
converted_truth(PyObject *value)
{
#if PY_VERSION_HEX >= 0x030C0000
    int truth;
    if (PyBool_Check(value)) {
        return Py_NewRef(value);
    }
    truth = PyObject_IsTrue(value);
    return truth < 0 ? NULL : PyBool_FromLong(truth);
#else
    return converted_index(value);
#endif
}

/* The fill byte of center(), ljust(), rjust(): Argument Clinic's `char`
 * converter reads a one-byte bytearray directly, so a locked one is copied
 * out under its read check. */
static PyObject *
converted_char(PyObject *fill)
{
    PyObject *copy;
    int locked;

    if (!PyByteArray_Check(fill) || PyByteArray_GET_SIZE(fill) != 1) {
        return Py_NewRef(fill);
    }
    locked = PyObject_TypeCheck(fill, LockingBytearray_Type);
    if (locked && guard_enter(fill, _Py_BUFLOCK_OWN_READ) < 0) {
        return NULL;
    }
    copy = PyBytes_FromStringAndSize(PyByteArray_AS_STRING(fill), 1);
    if (locked) {
        guard_exit(fill, _Py_BUFLOCK_OWN_READ);
    }
    return copy;
}

/* hex()'s separator, as an exact str or bytes, converted while the read
 * is held (as natively and upstream, gh-143195): a str or bytes subclass's
 * __len__ runs once, here, and code it runs cannot resize the object.  The
 * base method then gets the exact copy, so that __len__ runs only once. */
static PyObject *
converted_sep(PyObject *sep)
{
    if (PyUnicode_CheckExact(sep) || PyBytes_CheckExact(sep)) {
        return Py_NewRef(sep);
    }
    Py_ssize_t length = PyObject_Length(sep);
    if (length < 0) {
        return NULL;
    }
    if (length != 1) {
        PyErr_SetString(PyExc_ValueError, "sep must be length 1.");
        return NULL;
    }
    if (PyUnicode_Check(sep)) {
        return PyUnicode_FromObject(sep);
    }
    if (PyBytes_Check(sep)) {
        return PyBytes_FromStringAndSize(PyBytes_AS_STRING(sep),
                                         PyBytes_GET_SIZE(sep));
    }
    PyErr_SetString(PyExc_TypeError, "sep must be str or bytes.");
    return NULL;
}

/* join()'s iterable, run out into a private list of buffers, with stock
 * join's errors.  As upstream's join (3.13.15+, gh-151295), an item's
 * __buffer__ that changes the length of the joined sequence makes it raise
 * RuntimeError; one that replaces an item joins the buffer that item gave
 * (the private list keeps the item alive).  The first item that is not a
 * buffer ends the conversion: stock join raises TypeError for it before it
 * asks any later item for its buffer. */
static PyObject *
converted_items(PyObject *iterable)
{
    PyObject *seq, *items;
    Py_ssize_t i, seqlen;

    seq = PySequence_Fast(iterable, "can only join an iterable");
    if (seq == NULL) {
        return NULL;
    }
    items = PySequence_List(seq);
    if (items == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    seqlen = PyList_GET_SIZE(items);
    for (i = 0; i < seqlen; i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        PyObject *exact;
        if (EXACT_BUFFER(item)) {
            continue;
        }
        if (!PyObject_CheckBuffer(item)) {
            break;
        }
        exact = PyMemoryView_FromObject(item);
        if (exact == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "sequence item %zd: expected a bytes-like object, "
                         "%.80s found", i, Py_TYPE(item)->tp_name);
            goto error;
        }
        PyList_SET_ITEM(items, i, exact);
        Py_DECREF(item);
        if (PySequence_Fast_GET_SIZE(seq) != seqlen) {
            PyErr_SetString(PyExc_RuntimeError,
                            "sequence changed size during iteration");
            goto error;
        }
    }
    Py_DECREF(seq);
    return items;

error:
    Py_DECREF(seq);
    Py_DECREF(items);
    return NULL;
}

/* decode()'s encoding: the codec is looked up now (a search function is
 * Python code); the read then finds it in the codec cache. */
static PyObject *
converted_encoding(PyObject *encoding)
{
    const char *name;
    Py_ssize_t size;
    PyObject *decoder;

    if (!PyUnicode_Check(encoding)) {
        return Py_NewRef(encoding);
    }
    name = PyUnicode_AsUTF8AndSize(encoding, &size);
    if (name == NULL || strlen(name) != (size_t)size) {
        PyErr_Clear();      /* bytearray raises its own error for it */
        return Py_NewRef(encoding);
    }
    decoder = PyCodec_Decoder(name);
    if (decoder == NULL) {
        return NULL;
    }
    Py_DECREF(decoder);
    return Py_NewRef(encoding);
}

typedef enum {
    ARG_ANY,        /* used as it is: no Python code runs on it */
    ARG_INDEX,      /* converted_index() */
    ARG_BUFFER,     /* converted_buffer() */
    ARG_HELD_BUFFER,/* converted_buffer(), while the read is held */
    ARG_SUB,        /* converted_sub() */
    ARG_AFFIX,      /* converted_affix() */
    ARG_TRUTH,      /* converted_truth() */
    ARG_CHAR,       /* converted_char() */
    ARG_SEP,        /* converted_sep() */
    ARG_ITEMS,      /* converted_items() */
    ARG_ENCODING,   /* converted_encoding() */
} arg_kind;

static PyObject *
converted_arg(arg_kind kind, PyObject *arg)
{
    switch (kind) {
    case ARG_INDEX: return converted_index(arg);
    case ARG_BUFFER:
    case ARG_HELD_BUFFER: return converted_buffer(arg);
    case ARG_SUB: return converted_sub(arg);
    case ARG_AFFIX: return converted_affix(arg);
    case ARG_TRUTH: return converted_truth(arg);
    case ARG_CHAR: return converted_char(arg);
    case ARG_SEP: return converted_sep(arg);
    case ARG_ITEMS: return converted_items(arg);
    case ARG_ENCODING: return converted_encoding(arg);
    case ARG_ANY: break;
    }
    return Py_NewRef(arg);
}

/* The operands upstream converts while it pins the bytearray (3.13.12+:
 * gh-142560, gh-143195, gh-151295), which are converted while the read is
 * held (§3.2): a search's sub, split()'s and hex()'s separator, join()'s
 * items.  Every other argument is converted before the state is taken. */
static int
converted_under_read(arg_kind kind)
{
    return (kind == ARG_SUB || kind == ARG_AFFIX || kind == ARG_SEP
            || kind == ARG_ITEMS || kind == ARG_HELD_BUFFER);
}

/* ---- reads: arguments first, then the state for the whole read --------- */

#define READ _Py_BUFLOCK_OWN_READ
#define WRITE _Py_BUFLOCK_OWN_WRITE
#define RESIZE (-1)     /* a method that may change the size */

/* A read whose arguments (if any) run no Python code: take the state, call
 * bytearray's slot, leave the state. */
#define GUARDED_SLOT(NAME, RTYPE, ERRVAL, PARAMS, ARGS) \
    static RTYPE (*base_##NAME) PARAMS; \
    static RTYPE \
    lba_##NAME PARAMS \
    { \
        RTYPE result; \
        if (guard_enter(self, READ) < 0) { \
            return ERRVAL; \
        } \
        result = base_##NAME ARGS; \
        guard_exit(self, READ); \
        return result; \
    }

/* sq_repeat's count is converted by the caller, before the slot runs. */
GUARDED_SLOT(sq_item, PyObject *, NULL,
             (PyObject *self, Py_ssize_t i), (self, i))
GUARDED_SLOT(sq_repeat, PyObject *, NULL,
             (PyObject *self, Py_ssize_t n), (self, n))

/* repr() and str() while another holder's exclusive export is held: a text
 * that reads no contents, names the type and the length (len() is allowed
 * in every state, §3.2) and says the object is held, so that tracebacks,
 * loggers and debuggers keep working exactly when someone holds it:
 *     <LockingBytearray of 5 bytes, exclusively held>
 * Natively bytearray and array.array say the same ("items" for an array).
 * Every other refusal of the read (another thread's resize in progress, the
 * count of reads full) is raised as for any own read. */
static PyObject *
held_repr(PyObject *self, PyObject *(*base)(PyObject *))
{
    PyObject *result;
    Py_ssize_t seen, size;

    if (guard_enter(self, READ) == 0) {
        result = base(self);
        guard_exit(self, READ);
        return result;
    }
    seen = _Py_BUFLOCK_LOAD(LOCK_WORD(self));
    if (!_Py_BUFLOCK_HELD_EXCLUSIVELY(seen)) {
        return NULL;
    }
    PyErr_Clear();
    size = PyByteArray_GET_SIZE(self);
    return PyUnicode_FromFormat("<%s of %zd byte%s, exclusively held>",
                                _PyBufLock_ShortName(self), size,
                                size == 1 ? "" : "s");
}

static PyObject *(*base_tp_repr)(PyObject *self);
static PyObject *(*base_tp_str)(PyObject *self);

static PyObject *
lba_tp_repr(PyObject *self)
{
    return held_repr(self, base_tp_repr);
}

static PyObject *
lba_tp_str(PyObject *self)
{
    return held_repr(self, base_tp_str);
}

static binaryfunc base_sq_concat;
static objobjproc base_sq_contains;
static binaryfunc base_mp_subscript;
static richcmpfunc base_tp_richcompare;

/* The other operand of `+` or a comparison, which the operation reads:
 * a locked one (self too) is checked as an own read first, so that its
 * refusal is the own-read message of §6 ("cannot read"), as for the left
 * operand, and not the refusal of the export that reads it. */
static PyObject *
converted_operand(PyObject *operand)
{
    if (PyObject_TypeCheck(operand, LockingBytearray_Type)
        && guard_check(operand, READ) < 0)
    {
        return NULL;
    }
    return converted_buffer(operand);
}

static PyObject *
lba_sq_concat(PyObject *self, PyObject *other)
{
    PyObject *exact, *result = NULL;

    if ((exact = converted_operand(other)) == NULL) {
        return NULL;
    }
    if (guard_enter(self, READ) == 0) {
        result = base_sq_concat(self, exact);
        guard_exit(self, READ);
    }
    Py_DECREF(exact);
    return result;
}

static PyObject *
lba_tp_richcompare(PyObject *self, PyObject *other, int op)
{
    PyObject *exact, *result = NULL;

    if ((exact = converted_operand(other)) == NULL) {
        return NULL;
    }
    if (guard_enter(self, READ) == 0) {
        result = base_tp_richcompare(self, exact, op);
        guard_exit(self, READ);
    }
    Py_DECREF(exact);
    return result;
}

/* `value in lb`: as stock, a value that is not a byte value (its __index__
 * fails) is searched for as bytes. */
static PyObject *
converted_contained(PyObject *value)
{
    if (PyLong_Check(value) || EXACT_BUFFER(value)) {
        return Py_NewRef(value);
    }
    if (PyIndex_Check(value)) {
        PyObject *index = PyNumber_Index(value);
        if (index != NULL) {
            return index;
        }
        PyErr_Clear();
    }
    if (!PyObject_CheckBuffer(value)) {
        PyErr_Format(PyExc_TypeError,
                     "a bytes-like object is required, not '%.100s'",
                     Py_TYPE(value)->tp_name);
        return NULL;
    }
    return PyMemoryView_FromObject(value);
}

static int
lba_sq_contains(PyObject *self, PyObject *value)
{
    PyObject *exact;
    int result = -1;

    /* The value is converted while the read is held, as a search's sub. */
    if (guard_enter(self, READ) < 0) {
        return -1;
    }
    if ((exact = converted_contained(value)) != NULL) {
        result = base_sq_contains(self, exact);
        Py_DECREF(exact);
    }
    guard_exit(self, READ);
    return result;
}

static PyObject *
lba_mp_subscript(PyObject *self, PyObject *key)
{
    PyObject *exact, *result = NULL;

    if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0) {
            return NULL;
        }
        exact = exact_slice(key, start, stop, step);
    }
    else {
        exact = converted_index(key);
    }
    if (exact == NULL) {
        return NULL;
    }
    if (guard_enter(self, READ) == 0) {
        result = base_mp_subscript(self, exact);
        guard_exit(self, READ);
    }
    Py_DECREF(exact);
    return result;
}

/* ---- lb % args ---------------------------------------------------------- */

/* bytearray % args reads the format and the bytearray arguments directly,
 * and runs the arguments' Python code (__bytes__, __index__, __getitem__
 * of a mapping, ...) while it reads: the format decides how each argument
 * converts, so they cannot run first.  The format is therefore read first,
 * into a private copy, under its read check; then the copy is formatted.
 * Locked arguments are read-guarded while the formatting runs: the items
 * of a tuple, a lone argument, and the values a mapping argument hands out
 * (from their lookup on). */
static binaryfunc base_nb_remainder;

/* A mapping argument of a locked `%`: the values it hands out that are
 * locked are read-guarded until the formatting ends. */
typedef struct {
    PyObject_HEAD
    PyObject *mapping;
    PyObject *entered;      /* list of the locked values read-guarded */
} GuardedMappingObject;

static PyTypeObject *GuardedMapping_Type;

static PyObject *
guarded_mapping_subscript(PyObject *op, PyObject *key)
{
    GuardedMappingObject *self = (GuardedMappingObject *)op;
    PyObject *value = PyObject_GetItem(self->mapping, key);

    if (value == NULL || !PyObject_TypeCheck(value, LockingBytearray_Type)) {
        return value;
    }
    if (guard_enter(value, READ) < 0) {
        Py_DECREF(value);
        return NULL;
    }
    if (PyList_Append(self->entered, value) < 0) {
        guard_exit(value, READ);
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

/* `%r` of the mapping itself (a spec without a key) shows the mapping. */
static PyObject *
guarded_mapping_repr(PyObject *op)
{
    return PyObject_Repr(((GuardedMappingObject *)op)->mapping);
}

static void
guarded_mapping_dealloc(PyObject *op)
{
    GuardedMappingObject *self = (GuardedMappingObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    Py_ssize_t i;

    if (self->entered != NULL) {
        for (i = 0; i < PyList_GET_SIZE(self->entered); i++) {
            guard_exit(PyList_GET_ITEM(self->entered, i), READ);
        }
        Py_DECREF(self->entered);
    }
    Py_DECREF(self->mapping);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyType_Slot guarded_mapping_slots[] = {
    {Py_tp_dealloc, guarded_mapping_dealloc},
    {Py_tp_repr, guarded_mapping_repr},
    {Py_mp_subscript, guarded_mapping_subscript},
    {0, NULL}
};

static PyType_Spec guarded_mapping_spec = {
    .name = "bufferflags._native.GuardedMapping",
    .basicsize = sizeof(GuardedMappingObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE
             | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = guarded_mapping_slots,
};

/* Whether `%` uses `args` as a mapping (_PyBytes_FormatEx()'s own test),
 * and the format names a key. */
static int
formats_mapping(PyObject *format, PyObject *args)
{
    PyMappingMethods *mp = Py_TYPE(args)->tp_as_mapping;
    if (mp == NULL || mp->mp_subscript == NULL || PyTuple_Check(args)
        || PyBytes_Check(args) || PyUnicode_Check(args)
        || PyByteArray_Check(args))
    {
        return 0;
    }
    return memchr(PyByteArray_AS_STRING(format), '(',
                  PyByteArray_GET_SIZE(format)) != NULL;
}

static PyObject *
guarded_mapping(PyObject *mapping)
{
    GuardedMappingObject *self = PyObject_New(GuardedMappingObject,
                                              GuardedMapping_Type);
    if (self == NULL) {
        return NULL;
    }
    self->mapping = Py_NewRef(mapping);
    self->entered = PyList_New(0);
    if (self->entered == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

/* A private copy of a bytearray's contents, read under its read check. */
static PyObject *
read_copy(PyObject *obj)
{
    int locked = PyObject_TypeCheck(obj, LockingBytearray_Type);
    PyObject *copy;

    if (locked && guard_enter(obj, READ) < 0) {
        return NULL;
    }
    copy = PyByteArray_FromStringAndSize(PyByteArray_AS_STRING(obj),
                                         PyByteArray_GET_SIZE(obj));
    if (locked) {
        guard_exit(obj, READ);
    }
    return copy;
}

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
            guard_exit(objs[i], READ);
        }
    }
}

static PyObject *
lba_nb_remainder(PyObject *left, PyObject *right)
{
    PyObject *format, *args;
    PyObject *const *items = &right;
    Py_ssize_t nitems = 1, entered;
    PyObject *result = NULL;

    if (!PyByteArray_Check(left)) {
        return base_nb_remainder(left, right);      /* NotImplemented */
    }
    if ((format = read_copy(left)) == NULL) {
        return NULL;
    }
    if (formats_mapping(format, right)) {
        args = guarded_mapping(right);
        nitems = 0;
    }
    else {
        args = Py_NewRef(right);
        if (PyTuple_Check(right)) {
            items = &PyTuple_GET_ITEM(right, 0);
            nitems = PyTuple_GET_SIZE(right);
        }
    }
    if (args != NULL) {
        entered = guard_reads(items, nitems);
        if (entered == nitems) {
            result = base_nb_remainder(format, args);
        }
        unguard_reads(items, entered);
        Py_DECREF(args);    /* a GuardedMapping leaves its guards here */
    }
    Py_DECREF(format);
    return result;
}

/* ---- writes and resizes: input first, then the state ------------------- */

static ssizeobjargproc base_sq_ass_item;
static objobjargproc base_mp_ass_subscript;
static binaryfunc base_sq_inplace_concat;
static ssizeargfunc base_sq_inplace_repeat;

static int
lba_sq_ass_item(PyObject *self, Py_ssize_t i, PyObject *value)
{
    PyObject *byte = NULL;
    resize_entry entry;
    int rc = -1;

    if (value != NULL && (byte = exact_byte(value)) == NULL) {
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
        if (value != NULL && (exact_value = exact_byte(value)) == NULL) {
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
        guard_exit(self, _Py_BUFLOCK_OWN_WRITE);
        return result;
    }
    /* No refusal before other's __buffer__ has run (§3.2). */
    if (EXACT_BYTES(other)) {
        items = Py_NewRef(other);
    }
    else if ((items = PyBytes_FromObject(other)) == NULL) {
        return NULL;
    }
    if (guard_check(self, _Py_BUFLOCK_OWN_WRITE) < 0) {
        Py_DECREF(items);       /* refused in IMMUTABLE and EXCLUSIVE mode */
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

    if (guard_check(self, _Py_BUFLOCK_OWN_WRITE) < 0) {
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

/* Call bytearray's method number `index` on self.  Not inlined: inlined
 * into call_read(), whose argument array has MAX_PARAMS slots, GCC's
 * -Warray-bounds (-O2 and up) cannot see that `total` never exceeds it. */
static Py_NO_INLINE PyObject *
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
    guard_exit(self, access);
    return result;
}

/* The parameters of the reading methods that take arguments, in order,
 * with their keyword names (NULL: positional-only) and how each converts. */
typedef struct {
    const char *keyword;
    arg_kind kind;
} param_spec;

#define MAX_PARAMS 3

typedef struct {
    int count;
    param_spec params[MAX_PARAMS];
} method_params;

#define FIND_PARAMS {3, {{NULL, ARG_SUB}, {NULL, ARG_INDEX}, {NULL, ARG_INDEX}}}
#define AFFIX_PARAMS \
    {3, {{NULL, ARG_AFFIX}, {NULL, ARG_INDEX}, {NULL, ARG_INDEX}}}
#define JUST_PARAMS {2, {{NULL, ARG_INDEX}, {NULL, ARG_CHAR}}}
#define ONE_BUFFER {1, {{NULL, ARG_BUFFER}}}
#define SPLIT_PARAMS \
    {2, {{"sep", ARG_HELD_BUFFER}, {"maxsplit", ARG_INDEX}}}

static const method_params read_params[M_COUNT] = {
    [M_center] = JUST_PARAMS,
    [M_ljust] = JUST_PARAMS,
    [M_rjust] = JUST_PARAMS,
    [M_zfill] = {1, {{NULL, ARG_INDEX}}},
    [M_count] = FIND_PARAMS,
    [M_find] = FIND_PARAMS,
    [M_index] = FIND_PARAMS,
    [M_rfind] = FIND_PARAMS,
    [M_rindex] = FIND_PARAMS,
    [M_startswith] = AFFIX_PARAMS,
    [M_endswith] = AFFIX_PARAMS,
    [M_decode] = {2, {{"encoding", ARG_ENCODING}, {"errors", ARG_ANY}}},
    [M_expandtabs] = {1, {{"tabsize", ARG_INDEX}}},
    [M_hex] = {2, {{"sep", ARG_SEP}, {"bytes_per_sep", ARG_INDEX}}},
    [M_join] = {1, {{NULL, ARG_ITEMS}}},
    [M_strip] = ONE_BUFFER,
    [M_lstrip] = ONE_BUFFER,
    [M_rstrip] = ONE_BUFFER,
    [M_partition] = ONE_BUFFER,
    [M_rpartition] = ONE_BUFFER,
    [M_removeprefix] = ONE_BUFFER,
    [M_removesuffix] = ONE_BUFFER,
    [M_replace] = {3, {{NULL, ARG_BUFFER}, {NULL, ARG_BUFFER},
                       {"count", ARG_INDEX}}},
    [M_split] = SPLIT_PARAMS,
    [M_rsplit] = SPLIT_PARAMS,
    [M_splitlines] = {1, {{"keepends", ARG_TRUTH}}},
    [M_translate] = {2, {{NULL, ARG_BUFFER}, {"delete", ARG_BUFFER}}},
    [M___reduce_ex__] = {1, {{NULL, ARG_INDEX}}},
};

/* How the argument passed by keyword `name` converts. */
static arg_kind
keyword_kind(const method_params *spec, PyObject *name)
{
    int i;
    for (i = 0; i < spec->count; i++) {
        const char *keyword = spec->params[i].keyword;
        if (keyword != NULL
            && PyUnicode_CompareWithASCIIString(name, keyword) == 0)
        {
            return spec->params[i].kind;
        }
    }
    return ARG_ANY;
}

/* Whether PyUnicode_Decode() decodes `encoding` by itself (its shortcuts
 * for utf-8, utf-16, utf-32, ascii and latin-1, matched after
 * _Py_normalize_encoding()'s rules), without a codec.  Any other encoding
 * goes through the codec registry, whose decoder PyUnicode_Decode() hands a
 * memoryview of the raw memory that it never releases. */
static int
decodes_without_codec(const char *encoding)
{
    char lower[11];     /* strlen("iso-8859-1") + 1, the longest shortcut */
    char *l = lower, *l_end = &lower[sizeof(lower) - 1];
    const char *e;
    int punct = 0;

    for (e = encoding; *e != '\0'; e++) {
        char c = *e;
        if (Py_ISALNUM(c) || c == '.') {
            if (punct && l != lower) {
                if (l == l_end) {
                    return 0;
                }
                *l++ = '_';
            }
            punct = 0;
            if (l == l_end) {
                return 0;
            }
            *l++ = (char)Py_TOLOWER(c);
        }
        else {
            punct = 1;
        }
    }
    *l = '\0';
    l = lower;
    if (l[0] == 'u' && l[1] == 't' && l[2] == 'f') {
        l += 3;
        if (*l == '_') {
            l++;
        }
        return strcmp(l, "8") == 0 || strcmp(l, "16") == 0
               || strcmp(l, "32") == 0;
    }
    return (strcmp(l, "ascii") == 0 || strcmp(l, "us_ascii") == 0
#ifdef MS_WINDOWS
            || strcmp(l, "mbcs") == 0
#endif
            || strcmp(l, "latin1") == 0 || strcmp(l, "latin_1") == 0
            || strcmp(l, "iso_8859_1") == 0 || strcmp(l, "iso8859_1") == 0);
}

/* End a view of raw memory lent to Python code for one call, as natively
 * (_PyMemoryView_EndLoan()): its managed buffer is released as
 * mbuf_release() releases it, so that the view and every view derived from
 * it (memoryview(v), v[1:], v.cast(), v.toreadonly()), which share the
 * managed buffer, fail as released ones ("operation forbidden on released
 * memoryview object") and code that kept one can no longer read the
 * memory.  There is no exporter to release (PyMemoryView_FromBuffer()).  A
 * buffer that the Python code exported from the view and still holds is
 * beyond reach, natively too. */
static void
revoke_raw_view(PyObject *view)
{
    _PyManagedBufferObject *mbuf = ((PyMemoryViewObject *)view)->mbuf;

    assert(mbuf->master.obj == NULL);
    if (!(mbuf->flags & _Py_MANAGED_BUFFER_RELEASED)) {
        mbuf->flags |= _Py_MANAGED_BUFFER_RELEASED;
        PyObject_GC_UnTrack(mbuf);
    }
}

/* PyUnicode_Decode() of `size` bytes at `buf`, with the registry path done
 * here so that the decoder's view is released when it returns (§3.2
 * "Callbacks inside the access"): as _PyCodec_DecodeText(), a codec that is
 * not a text encoding is refused, and a decoder that returns no str is a
 * TypeError, with PyUnicode_Decode()'s messages. */
static PyObject *
decode_raw(const char *buf, Py_ssize_t size, const char *encoding,
           const char *errors)
{
    PyObject *codecs_module, *codec, *attr, *view, *result;
    Py_buffer info;
    int is_text = 1;

    if (size == 0 || decodes_without_codec(encoding)) {
        return PyUnicode_Decode(buf, size, encoding, errors);
    }
    codecs_module = PyImport_ImportModule("_codecs");
    if (codecs_module == NULL) {
        return NULL;
    }
    codec = PyObject_CallMethod(codecs_module, "lookup", "s", encoding);
    Py_DECREF(codecs_module);
    if (codec == NULL) {
        return NULL;
    }
    if (!PyTuple_CheckExact(codec)) {
        attr = PyObject_GetAttrString(codec, "_is_text_encoding");
        if (attr == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                Py_DECREF(codec);
                return NULL;
            }
            PyErr_Clear();
        }
        else {
            is_text = PyObject_IsTrue(attr);
            Py_DECREF(attr);
        }
    }
    Py_DECREF(codec);
    if (is_text <= 0) {
        if (is_text == 0) {
            PyErr_Format(PyExc_LookupError,
                         "'%.400s' is not a text encoding; "
                         "use codecs.decode() to handle arbitrary codecs",
                         encoding);
        }
        return NULL;
    }
    if (PyBuffer_FillInfo(&info, NULL, (void *)buf, size, 1,
                          PyBUF_FULL_RO) < 0)
    {
        return NULL;
    }
    view = PyMemoryView_FromBuffer(&info);
    if (view == NULL) {
        return NULL;
    }
    result = PyCodec_Decode(view, encoding, errors);
    revoke_raw_view(view);
    Py_DECREF(view);
    if (result != NULL && !PyUnicode_Check(result)) {
        PyErr_Format(PyExc_TypeError,
                     "'%.400s' decoder returned '%.400s' instead of 'str'; "
                     "use codecs.decode() to decode to arbitrary types",
                     encoding, Py_TYPE(result)->tp_name);
        Py_CLEAR(result);
    }
    return result;
}

/* decode() with its arguments converted: under the own read, the decoder
 * reads the contents through a view that is not an export, as natively, so
 * that code the codec runs may take PyBUF_IMMUTABLE (§3.1, a read in
 * progress) and cannot resize; the view ends with the call (decode_raw()).  Arguments bytearray.decode() would refuse
 * go to it unchanged, and so does empty contents (no decoder runs). */
static PyObject *
call_decode(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
            PyObject *kwnames)
{
    PyObject *given[2] = {NULL, NULL};
    const char *names[2] = {"utf-8", NULL};
    Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    Py_ssize_t i, size;
    PyObject *result;

    for (i = 0; i < total; i++) {
        Py_ssize_t slot = i;
        if (i >= nargs) {
            PyObject *name = PyTuple_GET_ITEM(kwnames, i - nargs);
            slot = PyUnicode_CompareWithASCIIString(name, "encoding") == 0 ? 0
                : PyUnicode_CompareWithASCIIString(name, "errors") == 0 ? 1
                : -1;
        }
        if (slot < 0 || slot > 1 || given[slot] != NULL
            || !PyUnicode_Check(args[i]))
        {
            return call_guarded(self, READ, M_decode, args, nargs, kwnames);
        }
        given[slot] = args[i];
        names[slot] = PyUnicode_AsUTF8AndSize(args[i], &size);
        if (names[slot] == NULL || strlen(names[slot]) != (size_t)size) {
            PyErr_Clear();
            return call_guarded(self, READ, M_decode, args, nargs, kwnames);
        }
    }
    if (guard_enter(self, READ) < 0) {
        return NULL;
    }
    if (PyByteArray_GET_SIZE(self) == 0) {
        result = call_base(M_decode, self, args, nargs, kwnames);
    }
    else {
        /* The own read stops the shim's resizes; stock's export count,
         * pinned as bytearray.join() pins it, stops bytearray's own methods
         * called on self from the codec (bytearray.append(self, x)), which
         * the shim does not see, from moving the memory being decoded. */
        ((PyByteArrayObject *)self)->ob_exports++;
        result = decode_raw(PyByteArray_AS_STRING(self),
                            PyByteArray_GET_SIZE(self), names[0], names[1]);
        ((PyByteArrayObject *)self)->ob_exports--;
    }
    guard_exit(self, READ);
    return result;
}

/* A reading method: its arguments run first (§3.2), then it holds the
 * read state for the whole call; the operands of converted_under_read() are
 * converted once the read is held.  A call with more arguments than the
 * method takes is passed on: bytearray refuses it before converting any. */
static PyObject *
call_read(PyObject *self, int index, PyObject *const *args, Py_ssize_t nargs,
          PyObject *kwnames)
{
    const method_params *spec = &read_params[index];
    Py_ssize_t total = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    arg_kind kinds[MAX_PARAMS];
    PyObject *exact[MAX_PARAMS] = {NULL};
    PyObject *result = NULL;
    int held = 0;
    Py_ssize_t i;

    if (total == 0 || total > spec->count) {
        return call_guarded(self, READ, index, args, nargs, kwnames);
    }
    for (i = 0; i < total; i++) {
        kinds[i] = i < nargs
            ? spec->params[i].kind
            : keyword_kind(spec, PyTuple_GET_ITEM(kwnames, i - nargs));
        held |= converted_under_read(kinds[i]);
    }
    for (i = 0; i < total; i++) {
        if (!converted_under_read(kinds[i])
            && (exact[i] = converted_arg(kinds[i], args[i])) == NULL)
        {
            goto done;
        }
    }
    if (!held) {
        result = index == M_decode
            ? call_decode(self, exact, nargs, kwnames)
            : call_guarded(self, READ, index, exact, nargs, kwnames);
        goto done;
    }
    if (guard_enter(self, READ) < 0) {
        goto done;
    }
    for (i = 0; i < total; i++) {
        if (converted_under_read(kinds[i])
            && (exact[i] = converted_arg(kinds[i], args[i])) == NULL)
        {
            break;
        }
    }
    if (i == total) {
        result = call_base(index, self, exact, nargs, kwnames);
    }
    guard_exit(self, READ);
done:
    for (i = 0; i < total; i++) {
        Py_XDECREF(exact[i]);
    }
    return result;
}

/* __init__'s iterable, collected into a private bytearray.  While target
 * cannot be resized the collection stops after the first item, as stock
 * __init__ does (it appends item by item): an endless iterator ends
 * (§3.2, "Failing fast"). */
static PyObject *
collect_items_failing_fast(PyObject *target, PyObject *iterable)
{
    PyObject *it, *item, *items;
    it = PyObject_GetIter(iterable);
    if (it == NULL) {
        return NULL;
    }
    items = PyByteArray_FromStringAndSize(NULL, 0);
    if (items == NULL) {
        Py_DECREF(it);
        return NULL;
    }
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *done = call_base(M_append, items, &item, 1, NULL);
        Py_DECREF(item);
        if (done == NULL) {
            goto error;
        }
        Py_DECREF(done);
        Py_ssize_t seen = _Py_BUFLOCK_LOAD(LOCK_WORD(target));
        if (seen != 0) {
            raise_resize_refused(target, seen);
            goto error;
        }
    }
    if (PyErr_Occurred()) {
        goto error;
    }
    Py_DECREF(it);
    return items;

error:
    Py_DECREF(it);
    Py_DECREF(items);
    return NULL;
}

static int
lba_tp_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    PyObject *source, *contents;
    Py_ssize_t size, seen;
    int rc = 0;

    if (guard_check(self, _Py_BUFLOCK_OWN_WRITE) < 0) {
        return -1;
    }
    source = NULL;
    if (PyTuple_GET_SIZE(args) > 0) {
        source = PyTuple_GET_ITEM(args, 0);
    }
    else if (kwds != NULL
             && (source = PyDict_GetItemString(kwds, "source")) == NULL
             && PyErr_Occurred())
    {
        return -1;
    }
    if ((kwds == NULL || PyDict_GET_SIZE(kwds) == 0)
        && PyTuple_GET_SIZE(args) == 1
        && !PyObject_CheckBuffer(source)
        && !PyUnicode_Check(source)
        && !PyIndex_Check(source)
        && (Py_TYPE(source)->tp_iter != NULL || PySequence_Check(source)))
    {
        contents = collect_items_failing_fast(self, source);
    }
    else {
        /* Anything else, and what is not iterable (bytearray's own
         * TypeError), is bytearray's constructor's. */
        contents = PyObject_Call((PyObject *)&PyByteArray_Type, args, kwds);
    }
    if (contents == NULL) {
        return -1;
    }
    if (source == self) {
        /* bytearray.__init__(ba, ba) empties ba before it reads its
         * argument, so it reads nothing: b'' (§3.2, as natively).  The
         * constructor above still checked the call. */
        Py_SETREF(contents, PyByteArray_FromStringAndSize(NULL, 0));
        if (contents == NULL) {
            return -1;
        }
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

/* extend() whose operand's __buffer__ grew self: as upstream (gh-153578)
 * the data lands at the end self had before, through bytearray's own slice
 * assignment (the caller holds the resize). */
static PyObject *
insert_at(PyObject *self, Py_ssize_t where, PyObject *items)
{
    PyObject *at = PyLong_FromSsize_t(where);
    if (at == NULL) {
        return NULL;
    }
    PyObject *key = PySlice_New(at, at, NULL);
    Py_DECREF(at);
    if (key == NULL) {
        return NULL;
    }
    int rc = PyByteArray_Type.tp_as_mapping->mp_ass_subscript(self, key,
                                                              items);
    Py_DECREF(key);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
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
    Py_ssize_t end = PY_SSIZE_T_MAX;
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
        /* An operand's __buffer__ runs before any refusal (§3.2); an
         * iterable is refused at once, so that it is not consumed, and so
         * is the object itself (no code runs to convert it). */
        if (args[0] != self && !EXACT_BYTES(args[0])
            && PyObject_CheckBuffer(args[0]))
        {
            end = Py_SIZE(self);
        }
        if (((args[0] == self || !PyObject_CheckBuffer(args[0]))
             && guard_check(self, _Py_BUFLOCK_OWN_WRITE) < 0)
            || (exact[0] = collect_items(args[0])) == NULL)
        {
            return NULL;
        }
        resizes = Py_SIZE(exact[0]) != 0;
    }
    else {
        for (i = 0; i < nargs; i++) {
            /* The byte value of append(), remove() and insert()'s second
             * argument is range-checked now, as bytearray's converter does
             * before the call; an index (pop(), insert()) is not. */
            int is_byte = index == M_insert ? i == 1
                          : index == M_append || index == M_remove;
            exact[i] = is_byte ? exact_byte(args[i]) : exact_index(args[i]);
            if (exact[i] == NULL) {
                goto done;
            }
        }
        if (index == M_clear) {
            resizes = Py_SIZE(self) != 0;
        }
    }
    entry = resizes ? resize_enter(self) : write_enter(self);
    if (entry != RESIZE_REFUSED) {
        result = end < Py_SIZE(self)
            ? insert_at(self, end, exact[0])
            : call_base(index, self, exact, nargs, NULL);
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
        if ((ACCESS) == READ) { \
            return call_read(self, M_##NAME, args, nargs, kwnames); \
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
    PyObject *view;     /* for a memoryview exporter: see export_forward() */
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
        if (self->view != NULL) {
            Py_CLEAR(self->view);
        }
        else {
            PyBuffer_Release(&self->master);
        }
    }
}

/* Acquire from a memoryview `mv` (a forward, §5) without holding an export
 * of `mv` itself.  A memoryview that is exported cannot be cleared safely
 * by the garbage collector (stock memory_clear() drops its managed buffer
 * while the export is held, and the export's release then crashes), so an
 * Export that held one could not let the collector see it, and a cycle
 * through a forwarded view (obj.fwd = view(view(obj, immutable=True),
 * immutable=True)) was never collected.  Instead, as CPython's own views of
 * views do, the Export holds a private memoryview on mv's managed buffer,
 * which keeps the underlying export alive however mv ends, and copies the
 * layout a request with `flags` gets from it; the private memoryview is
 * never exported, so the collector may clear it in any order.  The layout
 * points into the private memoryview and the exporter's memory, which both
 * live until the Export releases the private memoryview. */
static int
export_forward(ExportObject *self, PyObject *mv, int flags)
{
    Py_buffer layout;
    PyObject *view = PyMemoryView_FromObject(mv);

    if (view == NULL) {
        return -1;
    }
    if (PyObject_GetBuffer(view, &layout, flags) < 0) {
        Py_DECREF(view);
        return -1;
    }
    self->master = layout;
    self->master.obj = NULL;
    PyBuffer_Release(&layout);
    self->view = view;
    return 0;
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
 * A forward holds a private memoryview instead (export_forward()). */
static int
export_traverse(PyObject *op, visitproc visit, void *arg)
{
    ExportObject *self = (ExportObject *)op;
    Py_VISIT(Py_TYPE(op));
    if (self->held) {
        Py_VISIT(self->master.obj);
        Py_VISIT(self->view);
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

/* ---- what a Python exporter returns (§5, memoryview forwards) ---------- */

/* From 3.12 a class can export through a Python-level __buffer__, which
 * returns a memoryview; CPython's slot (slot_bf_getbuffer in typeobject.c)
 * then hands out that memoryview's buffer with its own object in
 * view->obj, a private _buffer_wrapper holding the memoryview.  Natively
 * the request reaches the memoryview, which forwards IMMUTABLE only if its
 * own export was granted IMMUTABLE and never re-exports EXCLUSIVE; here the
 * same rule is applied to the memoryview the wrapper holds. */
typedef struct {
    PyObject_HEAD
    PyObject *mv;
    PyObject *obj;
} BufferWrapperObject;

/* The memoryview a Python-level __buffer__ returned, if `exporter` (a
 * Py_buffer's obj) is CPython's wrapper of one; else NULL. */
static PyObject *
python_exporter_view(PyObject *exporter)
{
    PyTypeObject *tp = Py_TYPE(exporter);
    PyObject *mv;

    if (strcmp(tp->tp_name, "_buffer_wrapper") != 0
        || tp->tp_basicsize != (Py_ssize_t)sizeof(BufferWrapperObject))
    {
        return NULL;
    }
    mv = ((BufferWrapperObject *)exporter)->mv;
    return (mv != NULL && PyMemoryView_Check(mv)) ? mv : NULL;
}

/* The guarantee the export under memoryview `mv` was granted, as far as the
 * shim can know it: an Export records it; a LockingBytearray grants a
 * counted read-only export only in IMMUTABLE mode or for an exclusive read,
 * and the mode stays while it is held.  A stock memoryview does not record
 * what it was asked for, so a memoryview of bytes made by stock code
 * (memoryview(b"..."), bytes.__buffer__(flags)) is taken as a plain
 * request, which natively does not forward IMMUTABLE (§5): refused, fail
 * closed, even when the request it passed on carried the flag. */
static int
memoryview_guarantee(PyObject *mv)
{
    Py_buffer *master = &((PyMemoryViewObject *)mv)->mbuf->master;
    PyObject *exporter = master->obj;
    PyObject *inner;

    if (exporter == NULL) {
        return 0;
    }
    if (Py_IS_TYPE(exporter, Export_Type)) {
        ExportObject *export = (ExportObject *)exporter;
        return export->held ? export->granted : 0;
    }
    if (PyObject_TypeCheck(exporter, LockingBytearray_Type)) {
        return (master->internal == LOCKED_EXPORT_MARK && master->readonly)
               ? PyBUF_IMMUTABLE : 0;
    }
    inner = python_exporter_view(exporter);
    return inner != NULL ? memoryview_guarantee(inner) : 0;
}

/* Refuse, as the memoryview would natively, a guarantee requested from a
 * Python exporter that its memoryview cannot forward. */
static int
check_python_exporter(Py_buffer *view, int flags)
{
    PyObject *mv;

    if (!(flags & (PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE))
        || (mv = python_exporter_view(view->obj)) == NULL)
    {
        return 0;
    }
    if (flags & PyBUF_EXCLUSIVE) {
        PyErr_SetString(PyExc_BufferError,
                        "memoryview does not support PyBUF_EXCLUSIVE "
                        "(supported: PyBUF_IMMUTABLE)");
        return -1;
    }
    if (!(memoryview_guarantee(mv) & PyBUF_IMMUTABLE)) {
        PyErr_SetString(PyExc_BufferError,
                        "memoryview: cannot export PyBUF_IMMUTABLE: "
                        "the underlying export is not immutable");
        return -1;
    }
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
    int rc;

    if (_PyBufLock_CheckRequest(flags) < 0) {
        return NULL;
    }
    export = PyObject_GC_New(ExportObject, Export_Type);
    if (export == NULL) {
        return NULL;
    }
    export->view = NULL;
    export->held = 0;
    export->exports = 0;
    export->granted = requested_guarantee(flags);
    rc = PyMemoryView_Check(obj) ? export_forward(export, obj, flags)
                                 : PyObject_GetBuffer(obj, &export->master, flags);
    if (rc < 0) {
        Py_DECREF(export);
        return NULL;
    }
    export->held = 1;
    PyObject_GC_Track(export);
    if (export->view == NULL
        && check_python_exporter(&export->master, flags) < 0)
    {
        Py_DECREF(export);
        return NULL;
    }
    if (export->granted && !export->master.readonly
        && !(flags & PyBUF_WRITABLE))
    {
        /* Never pass on a guarantee the exporter visibly did not keep: its
           declaration is false, a bug in its type (SystemError, as
           natively). */
        PyErr_Format(PyExc_SystemError,
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

/* view()'s entry in native_functions (set at init) and the docstring
 * configure_view() gave it: the Python implementation's signature and
 * docstring, so that inspect.signature() and help() describe the function
 * the fast path stands for. */
static PyMethodDef *view_def;
static PyObject *view_doc;

/* configure_view(declared_bits, slow_path, doc): wire native_view() to the
 * registry dict and to the Python implementation, and document it with doc
 * ("view(<signature>)\n--\n\n<docstring>"). */
static PyObject *
native_configure_view(PyObject *Py_UNUSED(module), PyObject *const *args,
                      Py_ssize_t nargs)
{
    const char *doc;

    if (nargs != 3 || !PyDict_Check(args[0]) || !PyCallable_Check(args[1])
        || !PyUnicode_Check(args[2]))
    {
        PyErr_SetString(PyExc_TypeError, "configure_view() takes a dict, "
                        "a callable and a docstring");
        return NULL;
    }
    doc = PyUnicode_AsUTF8(args[2]);
    if (doc == NULL) {
        return NULL;
    }
    Py_XSETREF(declared_bits, Py_NewRef(args[0]));
    Py_XSETREF(view_slow_path, Py_NewRef(args[1]));
    Py_XSETREF(view_doc, Py_NewRef(args[2]));
    if (view_def != NULL) {
        view_def->ml_doc = doc;
    }
    Py_RETURN_NONE;
}

/* lock_state(obj) -> (mode, holds, reads), for tests and debugging. */
static PyObject *
native_lock_state(PyObject *Py_UNUSED(module), PyObject *obj)
{
    Py_ssize_t word;
    if (!PyObject_TypeCheck(obj, LockingBytearray_Type)) {
        PyErr_Format(PyExc_TypeError, "expected LockingBytearray, not %.200s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    word = _Py_BUFLOCK_LOAD(LOCK_WORD(obj));
    return Py_BuildValue("inn", _Py_BUFLOCK_MODE(word),
                         _Py_BUFLOCK_HOLDS(word), _Py_BUFLOCK_READS(word));
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

/* created_in_c(t) -> bool: t was made by C code, a static type or one
 * from PyType_FromSpec() and friends (which keep their name in
 * _ht_tpname), not by a class statement or type().  Such a type has its
 * own declaration or none: it inherits nothing (§5), because its C code
 * may reach the memory without the base's checks. */
static PyObject *
native_created_in_c(PyObject *Py_UNUSED(module), PyObject *arg)
{
    PyTypeObject *type;
    if (!PyType_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "created_in_c() takes a type");
        return NULL;
    }
    type = (PyTypeObject *)arg;
    return PyBool_FromLong(!(type->tp_flags & Py_TPFLAGS_HEAPTYPE)
                           || ((PyHeapTypeObject *)type)->_ht_tpname != NULL);
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
     "view(obj, *, immutable=False, exclusive=False, writable=False, "
     "fallback=None)\n--\n\n"
     "A memoryview of obj that carries the requested guarantees."},
    {"configure_view", (PyCFunction)(void (*)(void))native_configure_view,
     METH_FASTCALL, "configure_view(declared_bits, slow_path, doc)"},
    {"lock_state", native_lock_state, METH_O,
     "lock_state(obj) -> (mode, holds, reads) of a LockingBytearray"},
    {"same_buffer_procs", (PyCFunction)(void (*)(void))native_same_buffer_procs,
     METH_FASTCALL, "same_buffer_procs(t, d) -> whether t exports as d"},
    {"created_in_c", native_created_in_c, METH_O,
     "created_in_c(t) -> whether t was made by C code, not by a class"},
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
        GuardedMapping_Type = (PyTypeObject *)PyType_FromSpec(
            &guarded_mapping_spec);
        if (Export_Type == NULL || GuardedMapping_Type == NULL) {
            Py_CLEAR(LockingBytearray_Type);
            Py_CLEAR(Export_Type);
            Py_CLEAR(GuardedMapping_Type);
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
        if (strcmp(def->ml_name, "view") == 0) {
            view_def = def;
        }
        if (publish(ns, def->ml_name, PyCFunction_New(def, NULL)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Hand the pending exception of a failed cffi entry point to the Python
 * side, which raises it: ns["error"] (the entry points return only an
 * int). */
static void
store_error(PyObject *ns)
{
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

/* The one cffi entry point.  cffi calls it without the GIL.  Returns 0, or
 * -1 with the exception stored in ns["error"]. */
int
bufferflags_init(intptr_t namespace_id)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *ns = (PyObject *)namespace_id;
    int rc = init_with_gil(ns);
    if (rc < 0) {
        store_error(ns);
    }
    PyGILState_Release(gil);
    return rc;
}
