/* The C API of include/bufferflags.h on stock CPython: the provider side.
 *
 * Compiled in the same unit as _locking.c (see _native_build.py), whose
 * checks it reuses.  bufferflags_init_c_api(), the second cffi entry
 * point, publishes the capsule bufferflags._C_API, whose functions give C
 * extensions what bufferflags.acquire() gives Python code: the fail-closed
 * rule of semantics.md §2, which stock PyObject_GetBuffer() does not
 * apply, then PyObject_GetBuffer() itself.  It also makes the class of
 * refusals because of a held state (§6), BufferConflictError.
 */
#define BUFFERFLAGS_PROVIDER
#include "include/bufferflags.h"

#define GUARANTEE_FLAGS (PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE)

/* bufferflags.supported_flags: the registry and its rules live in Python. */
static PyObject *supported_flags_func;

/* BufferFlags_SupportedFlags(): an exact type the registry declares is
 * answered from the dict view() uses; anything else (subclasses, types
 * without a declaration, memoryview's per-instance forwarding) by
 * bufferflags.supported_flags itself. */
static int
capi_supported_flags(PyObject *obj)
{
    PyObject *tp = PyType_Check(obj) ? obj : (PyObject *)Py_TYPE(obj);
    PyObject *declared, *result;
    long flags;

    if (declared_bits != NULL) {
        declared = PyDict_GetItemWithError(declared_bits, tp);
        if (declared != NULL) {
            flags = PyLong_AsLong(declared);
            return (flags == -1 && PyErr_Occurred()) ? -1 : (int)flags;
        }
        if (PyErr_Occurred()) {
            return -1;
        }
    }
    if (supported_flags_func == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bufferflags is not initialised");
        return -1;
    }
    result = PyObject_CallOneArg(supported_flags_func, obj);
    if (result == NULL) {
        return -1;
    }
    flags = PyLong_AsLong(result);
    Py_DECREF(result);
    if (flags == -1 && PyErr_Occurred()) {
        return -1;
    }
    return (int)(flags & GUARANTEE_FLAGS);
}

static const char *
guarantee_names(int flags)
{
    switch (flags & GUARANTEE_FLAGS) {
    case PyBUF_IMMUTABLE: return "PyBUF_IMMUTABLE";
    case PyBUF_EXCLUSIVE: return "PyBUF_EXCLUSIVE";
    case GUARANTEE_FLAGS: return "PyBUF_IMMUTABLE|PyBUF_EXCLUSIVE";
    default: return "none";
    }
}

/* The refusal of §2 rule 3, worded as bufferflags.acquire() words it. */
static void
raise_unsupported(PyObject *obj, int missing, int supported)
{
    PyObject *name;

    if (PyMemoryView_Check(obj) && !(missing & PyBUF_EXCLUSIVE)) {
        PyErr_SetString(PyExc_BufferError,
                        "memoryview: cannot export PyBUF_IMMUTABLE: "
                        "the underlying export is not immutable");
        return;
    }
    name = PyType_GetName(Py_TYPE(obj));
    if (name == NULL) {
        return;
    }
    PyErr_Format(PyExc_BufferError, "%U does not support %s (supported: %s)",
                 name, guarantee_names(missing), guarantee_names(supported));
    Py_DECREF(name);
}

/* BufferFlags_GetBuffer(): the request checks of §2 in the order
 * PyObject_GetBuffer() makes them natively (unknown bits, contradictory,
 * unsupported), the exporter, then what acquire() checks of the result:
 * a Python exporter's memoryview must forward the guarantee, and a type
 * that declared one must not hand out a writable buffer for it. */
static int
capi_get_buffer(PyObject *obj, Py_buffer *view, int flags)
{
    int wanted = flags & GUARANTEE_FLAGS;
    int supported;

    if (_PyBufLock_CheckRequest(flags) < 0) {
        return -1;
    }
    if (wanted && PyObject_CheckBuffer(obj)) {
        supported = capi_supported_flags(obj);
        if (supported < 0) {
            return -1;
        }
        if (wanted & ~supported) {
            raise_unsupported(obj, wanted & ~supported, supported);
            return -1;
        }
    }
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        return -1;
    }
    if (!wanted) {
        return 0;
    }
    if (check_python_exporter(view, flags) < 0) {
        PyBuffer_Release(view);
        return -1;
    }
    if (!view->readonly && !(flags & PyBUF_WRITABLE)) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_SystemError,
                     "%.200s granted a writable buffer for PyBUF_%s: "
                     "its declared support is wrong",
                     Py_TYPE(obj)->tp_name,
                     (flags & PyBUF_EXCLUSIVE) ? "EXCLUSIVE" : "IMMUTABLE");
        return -1;
    }
    return 0;
}

static const BufferFlags_CAPI c_api = {
    BUFFERFLAGS_API_VERSION,
    (Py_ssize_t)sizeof(BufferFlags_CAPI),
    capi_supported_flags,
    capi_get_buffer,
};

/* builtins.BufferConflictError if this interpreter has it, else a new
 * bufferflags.BufferConflictError(BufferError). */
static PyObject *
make_conflict_error(void)
{
    PyObject *builtins = PyImport_ImportModule("builtins");
    PyObject *builtin;

    if (builtins == NULL) {
        return NULL;
    }
    builtin = PyObject_GetAttrString(builtins, "BufferConflictError");
    Py_DECREF(builtins);
    if (builtin != NULL) {
        if (PyExceptionClass_Check(builtin)
            && PyObject_IsSubclass(builtin, PyExc_BufferError) == 1)
        {
            return builtin;
        }
        Py_DECREF(builtin);
    }
    PyErr_Clear();
    return PyErr_NewExceptionWithDoc(
        "bufferflags.BufferConflictError",
        "A buffer request or operation refused because of what is held:\n"
        "an export, or an operation in progress.  Retrying after the\n"
        "holder releases may succeed; a BufferError that is not a\n"
        "BufferConflictError will not (unsupported or invalid request).",
        PyExc_BufferError, NULL);
}

static int
init_c_api(PyObject *ns, PyObject *supported_flags)
{
    if (!PyDict_Check(ns) || !PyCallable_Check(supported_flags)) {
        PyErr_SetString(PyExc_TypeError,
                        "bufferflags_init_c_api needs a dict and a callable");
        return -1;
    }
    if (conflict_error == NULL
        && (conflict_error = make_conflict_error()) == NULL)
    {
        return -1;
    }
    Py_XSETREF(supported_flags_func, Py_NewRef(supported_flags));
    if (publish(ns, "BufferConflictError", Py_NewRef(conflict_error)) < 0
        || publish(ns, "_C_API",
                   PyCapsule_New((void *)&c_api, BUFFERFLAGS_CAPSULE_NAME,
                                 NULL)) < 0)
    {
        return -1;
    }
    return 0;
}

/* The second cffi entry point, called once at import after
 * bufferflags_init() and, like it, without the GIL.  Returns 0, or -1 with
 * the exception stored in ns["error"]. */
int
bufferflags_init_c_api(intptr_t namespace_id, intptr_t supported_flags_id)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *ns = (PyObject *)namespace_id;
    int rc = init_c_api(ns, (PyObject *)supported_flags_id);
    if (rc < 0) {
        store_error(ns);    /* _locking.c */
    }
    PyGILState_Release(gil);
    return rc;
}
