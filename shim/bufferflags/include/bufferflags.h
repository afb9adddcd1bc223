/* bufferflags.h: PyBUF_IMMUTABLE and PyBUF_EXCLUSIVE for C extensions.
 *
 * One API on stock CPython 3.11+ (with the bufferflags shim installed) and
 * on an interpreter that implements the flags natively.  Include it after
 * Python.h, call BufferFlags_Import() once in module init, then request
 * buffers with BufferFlags_GetBuffer() and release them with
 * PyBuffer_Release():
 *
 *     Py_buffer view;
 *     if (BufferFlags_GetBuffer(obj, &view, PyBUF_IMMUTABLE) < 0) {
 *         return NULL;             // BufferError: unsupported or conflict
 *     }
 *     Py_BEGIN_ALLOW_THREADS
 *     ... read view.buf: nothing can change it until the release ...
 *     Py_END_ALLOW_THREADS
 *     PyBuffer_Release(&view);
 *
 * Why not PyObject_GetBuffer(obj, &view, PyBUF_IMMUTABLE) directly: stock
 * CPython ignores the new bits, and so do its exporters, so a plain
 * bytearray would hand out a writable buffer whose bytes change while
 * they are read.  BufferFlags_GetBuffer() refuses a flag the object's type
 * does not support before the exporter runs (proposal/semantics.md §2,
 * rule 3); natively it is PyObject_GetBuffer() itself.
 *
 * The binding is made at run time, by BufferFlags_Import(): on stock
 * CPython it imports the capsule bufferflags._C_API; where
 * bufferflags.NATIVE is true it binds to PyObject_GetBuffer().  One
 * binary therefore serves both interpreters of the same version.  The
 * header also compiles under the limited API (Py_LIMITED_API >= 3.11).
 *
 * By default the binding is static, one per C file: a file that includes
 * this header calls BufferFlags_Import() before it uses the other
 * functions.  An extension made of several C files shares one binding
 * instead (as numpy's PY_ARRAY_UNIQUE_SYMBOL / NO_IMPORT_ARRAY):
 *
 *     // every file, before including bufferflags.h:
 *     #define BUFFERFLAGS_UNIQUE_SYMBOL myext_bufferflags_api
 *     // every file except the one whose module init calls
 *     // BufferFlags_Import():
 *     #define BUFFERFLAGS_NO_IMPORT
 *
 * The name is a global symbol of the extension: pick one no other library
 * linked into it uses.  BufferFlags_Import() is not declared in a
 * BUFFERFLAGS_NO_IMPORT file.
 */
#ifndef BUFFERFLAGS_H
#define BUFFERFLAGS_H

#ifndef Py_PYTHON_H
#  error "include Python.h before bufferflags.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The two request flags (proposal/semantics.md §1); an interpreter that
 * implements them defines them in pybuffer.h. */
#ifndef PyBUF_IMMUTABLE
#  define PyBUF_IMMUTABLE 0x0400
#endif
#ifndef PyBUF_EXCLUSIVE
#  define PyBUF_EXCLUSIVE 0x0800
#endif

#define BUFFERFLAGS_CAPSULE_NAME "bufferflags._C_API"
#define BUFFERFLAGS_API_VERSION 1

/* What the capsule points to.  Fields are only ever appended, and the
 * version raised when they are: a consumer accepts any provider whose
 * version and size are at least its own. */
typedef struct {
    int version;                /* BUFFERFLAGS_API_VERSION of the provider */
    Py_ssize_t size;            /* sizeof the provider's struct */
    int (*supported_flags)(PyObject *obj);
    int (*get_buffer)(PyObject *obj, Py_buffer *view, int flags);
} BufferFlags_CAPI;

#ifndef BUFFERFLAGS_PROVIDER    /* defined by the shim, which fills the API */

#if defined(BUFFERFLAGS_NO_IMPORT) && !defined(BUFFERFLAGS_UNIQUE_SYMBOL)
#  error "BUFFERFLAGS_NO_IMPORT needs BUFFERFLAGS_UNIQUE_SYMBOL"
#endif

#ifdef BUFFERFLAGS_UNIQUE_SYMBOL
   /* One pointer for the whole extension, defined in the file that imports. */
#  define BufferFlags_API BUFFERFLAGS_UNIQUE_SYMBOL
#  ifdef BUFFERFLAGS_NO_IMPORT
extern const BufferFlags_CAPI *BufferFlags_API;
#  else
const BufferFlags_CAPI *BufferFlags_API = NULL;
#  endif
#else
static const BufferFlags_CAPI *BufferFlags_API = NULL;
#endif

static inline int
_BufferFlags_NotImported(void)
{
    PyErr_SetString(PyExc_RuntimeError,
                    "bufferflags: call BufferFlags_Import() first"
#ifndef BUFFERFLAGS_UNIQUE_SYMBOL
                    " (in every C file that includes bufferflags.h, or "
                    "define BUFFERFLAGS_UNIQUE_SYMBOL: see bufferflags.h)"
#endif
                    );
    return -1;
}

#ifndef BUFFERFLAGS_NO_IMPORT

/* Natively: bufferflags.supported_flags, which asks the interpreter. */
static PyObject *_BufferFlags_NativeQuery = NULL;
static BufferFlags_CAPI _BufferFlags_NativeAPI;

static inline int
_BufferFlags_NativeSupported(PyObject *obj)
{
    long flags;
    PyObject *result = PyObject_CallFunctionObjArgs(_BufferFlags_NativeQuery,
                                                    obj, NULL);
    if (result == NULL) {
        return -1;
    }
    flags = PyLong_AsLong(result);
    Py_DECREF(result);
    if (flags == -1 && PyErr_Occurred()) {
        return -1;
    }
    return (int)(flags & (PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE));
}

/* Bind to the native calls when bufferflags.NATIVE is true, else to the
 * capsule.  Returns 0, or -1 with an exception set. */
static inline int
_BufferFlags_Bind(PyObject *module)
{
    const BufferFlags_CAPI *api;
    PyObject *attr = PyObject_GetAttrString(module, "NATIVE");
    int native;

    if (attr == NULL) {
        return -1;
    }
    native = PyObject_IsTrue(attr);
    Py_DECREF(attr);
    if (native < 0) {
        return -1;
    }
    if (native) {
        attr = PyObject_GetAttrString(module, "supported_flags");
        if (attr == NULL) {
            return -1;
        }
        Py_XDECREF(_BufferFlags_NativeQuery);
        _BufferFlags_NativeQuery = attr;
        _BufferFlags_NativeAPI.version = BUFFERFLAGS_API_VERSION;
        _BufferFlags_NativeAPI.size = (Py_ssize_t)sizeof(BufferFlags_CAPI);
        _BufferFlags_NativeAPI.supported_flags = _BufferFlags_NativeSupported;
        _BufferFlags_NativeAPI.get_buffer = PyObject_GetBuffer;
        BufferFlags_API = &_BufferFlags_NativeAPI;
        return 0;
    }
    api = (const BufferFlags_CAPI *)PyCapsule_Import(BUFFERFLAGS_CAPSULE_NAME,
                                                     0);
    if (api == NULL) {
        return -1;
    }
    if (api->version < BUFFERFLAGS_API_VERSION
        || api->size < (Py_ssize_t)sizeof(BufferFlags_CAPI))
    {
        PyErr_Format(PyExc_ImportError,
                     "%s has version %d (size %zd); this extension was "
                     "built for version %d (size %zd): upgrade bufferflags",
                     BUFFERFLAGS_CAPSULE_NAME, api->version, api->size,
                     BUFFERFLAGS_API_VERSION,
                     (Py_ssize_t)sizeof(BufferFlags_CAPI));
        return -1;
    }
    BufferFlags_API = api;
    return 0;
}

/* Call once in module init.  Returns 0, or -1 with an exception set. */
static inline int
BufferFlags_Import(void)
{
    int rc;
    PyObject *module = PyImport_ImportModule("bufferflags");

    if (module == NULL) {
        return -1;
    }
    rc = _BufferFlags_Bind(module);
    Py_DECREF(module);
    return rc;
}

#endif /* !BUFFERFLAGS_NO_IMPORT */

/* The subset of PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE that obj (an object or a
 * type) honours, as bufferflags.supported_flags(obj); -1 with an exception
 * set on error. */
static inline int
BufferFlags_SupportedFlags(PyObject *obj)
{
    if (BufferFlags_API == NULL) {
        return _BufferFlags_NotImported();
    }
    return BufferFlags_API->supported_flags(obj);
}

/* PyObject_GetBuffer() with the fail-closed rule on every interpreter: a
 * new flag obj's type does not support is refused with BufferError before
 * the exporter runs; a conflict with what is held raises
 * BufferConflictError (a BufferError).  Release with PyBuffer_Release(). */
static inline int
BufferFlags_GetBuffer(PyObject *obj, Py_buffer *view, int flags)
{
    if (BufferFlags_API == NULL) {
        return _BufferFlags_NotImported();
    }
    return BufferFlags_API->get_buffer(obj, view, flags);
}

#endif /* !BUFFERFLAGS_PROVIDER */

#ifdef __cplusplus
}
#endif
#endif /* !BUFFERFLAGS_H */
