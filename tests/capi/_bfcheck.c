/* _bfcheck: a C extension that uses bufferflags.h as an extension author
 * would, built by the tests on every interpreter from this one file: stock
 * CPython with the shim, and the patched interpreter (issue 11).
 *
 *   supported(obj)        BufferFlags_SupportedFlags(obj)
 *   request(obj, flags)   BufferFlags_GetBuffer() then PyBuffer_Release():
 *                         (readonly, len) of what was granted
 *   raw_request(obj, flags)
 *                         the same with PyObject_GetBuffer(), which stock
 *                         CPython does not check
 *   Held(obj, flags)      a buffer held until release(); hashes(rounds)
 *                         hashes it `rounds` times with the GIL released
 *   reimport()            BufferFlags_Import() again
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include "bufferflags.h"

/* 64-bit FNV-1a: any change of any byte changes it, with high probability. */
static uint64_t
fnv1a(const unsigned char *p, Py_ssize_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    Py_ssize_t i;

    for (i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static PyObject *
bf_supported(PyObject *Py_UNUSED(module), PyObject *obj)
{
    int flags = BufferFlags_SupportedFlags(obj);
    return flags < 0 ? NULL : PyLong_FromLong(flags);
}

typedef int (*getbuffer_func)(PyObject *, Py_buffer *, int);

static PyObject *
request_with(getbuffer_func get, PyObject *args)
{
    PyObject *obj, *result;
    Py_buffer view;
    int flags;

    if (!PyArg_ParseTuple(args, "Oi", &obj, &flags)) {
        return NULL;
    }
    if (get(obj, &view, flags) < 0) {
        return NULL;
    }
    result = Py_BuildValue("(in)", view.readonly, view.len);
    PyBuffer_Release(&view);
    return result;
}

static PyObject *
bf_request(PyObject *Py_UNUSED(module), PyObject *args)
{
    return request_with(BufferFlags_GetBuffer, args);
}

static PyObject *
bf_raw_request(PyObject *Py_UNUSED(module), PyObject *args)
{
    return request_with(PyObject_GetBuffer, args);
}

static PyObject *
bf_reimport(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(arg))
{
    if (BufferFlags_Import() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- Held: one buffer held across calls --------------------------------- */

typedef struct {
    PyObject_HEAD
    Py_buffer view;
    int held;
} HeldObject;

static PyObject *
held_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *obj;
    HeldObject *self;
    int flags;
    static char *keywords[] = {"obj", "flags", NULL};

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "Oi", keywords, &obj,
                                     &flags))
    {
        return NULL;
    }
    self = (HeldObject *)PyType_GenericAlloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    if (BufferFlags_GetBuffer(obj, &self->view, flags) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    self->held = 1;
    return (PyObject *)self;
}

static void
held_release_view(HeldObject *self)
{
    if (self->held) {
        self->held = 0;
        PyBuffer_Release(&self->view);
    }
}

static void
held_dealloc(PyObject *op)
{
    PyTypeObject *type = Py_TYPE(op);
    freefunc tp_free = (freefunc)PyType_GetSlot(type, Py_tp_free);

    held_release_view((HeldObject *)op);
    tp_free(op);
    Py_DECREF(type);
}

static int
held_check(HeldObject *self)
{
    if (!self->held) {
        PyErr_SetString(PyExc_ValueError, "the buffer was released");
        return -1;
    }
    return 0;
}

/* hashes(rounds) -> list of the distinct hashes seen, in order.  The bytes
 * are read with the GIL released, as a real consumer would: only the
 * guarantee the buffer was granted keeps other threads from changing them. */
static PyObject *
held_hashes(PyObject *op, PyObject *arg)
{
    HeldObject *self = (HeldObject *)op;
    uint64_t seen[16];
    Py_ssize_t rounds, i, j, nseen = 0;
    PyObject *result;

    if (held_check(self) < 0) {
        return NULL;
    }
    rounds = PyLong_AsSsize_t(arg);
    if (rounds == -1 && PyErr_Occurred()) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    for (i = 0; i < rounds; i++) {
        uint64_t h = fnv1a((const unsigned char *)self->view.buf,
                           self->view.len);
        for (j = 0; j < nseen && seen[j] != h; j++) {
        }
        if (j == nseen && nseen < 16) {
            seen[nseen++] = h;
        }
    }
    Py_END_ALLOW_THREADS
    result = PyList_New(nseen);
    if (result == NULL) {
        return NULL;
    }
    for (j = 0; j < nseen; j++) {
        PyObject *h = PyLong_FromUnsignedLongLong(seen[j]);
        if (h == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        PyList_SetItem(result, j, h);
    }
    return result;
}

static PyObject *
held_release(PyObject *op, PyObject *Py_UNUSED(arg))
{
    held_release_view((HeldObject *)op);
    Py_RETURN_NONE;
}

static PyObject *
held_get_readonly(PyObject *op, void *Py_UNUSED(closure))
{
    HeldObject *self = (HeldObject *)op;
    if (held_check(self) < 0) {
        return NULL;
    }
    return PyBool_FromLong(self->view.readonly);
}

static PyMethodDef held_methods[] = {
    {"hashes", held_hashes, METH_O,
     "hashes(rounds) -> the distinct FNV-1a hashes of the buffer, "
     "computed rounds times with the GIL released"},
    {"release", held_release, METH_NOARGS, "release() -> None"},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef held_getset[] = {
    {"readonly", held_get_readonly, NULL, "what the exporter granted", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyType_Slot held_slots[] = {
    {Py_tp_doc, (void *)"Held(obj, flags): BufferFlags_GetBuffer() until "
                        "release()"},
    {Py_tp_new, held_new},
    {Py_tp_dealloc, held_dealloc},
    {Py_tp_methods, held_methods},
    {Py_tp_getset, held_getset},
    {0, NULL}
};

static PyType_Spec held_spec = {
    "_bfcheck.Held",
    sizeof(HeldObject),
    0,
    Py_TPFLAGS_DEFAULT,
    held_slots,
};

/* ---- the module ------------------------------------------------------- */

static PyMethodDef bf_methods[] = {
    {"supported", bf_supported, METH_O,
     "supported(obj) -> BufferFlags_SupportedFlags(obj)"},
    {"request", bf_request, METH_VARARGS,
     "request(obj, flags) -> (readonly, len) granted by "
     "BufferFlags_GetBuffer()"},
    {"raw_request", bf_raw_request, METH_VARARGS,
     "raw_request(obj, flags) -> (readonly, len) granted by "
     "PyObject_GetBuffer()"},
    {"reimport", bf_reimport, METH_NOARGS, "BufferFlags_Import() again"},
    {NULL, NULL, 0, NULL}
};

static int
bf_exec(PyObject *module)
{
    PyObject *held;

    if (BufferFlags_Import() < 0) {
        return -1;
    }
    held = PyType_FromSpec(&held_spec);
    if (held == NULL) {
        return -1;
    }
    if (PyModule_AddObject(module, "Held", held) < 0) {
        Py_DECREF(held);
        return -1;
    }
    if (PyModule_AddIntConstant(module, "PyBUF_IMMUTABLE", PyBUF_IMMUTABLE) < 0
        || PyModule_AddIntConstant(module, "PyBUF_EXCLUSIVE",
                                   PyBUF_EXCLUSIVE) < 0)
    {
        return -1;
    }
#ifdef Py_LIMITED_API
    return PyModule_AddIntConstant(module, "LIMITED_API", 1);
#else
    return PyModule_AddIntConstant(module, "LIMITED_API", 0);
#endif
}

static PyModuleDef_Slot bf_slots[] = {
    {Py_mod_exec, (void *)bf_exec},
/* Py_MOD_GIL_NOT_USED exists from 3.13, and under the limited API only from
   Py_LIMITED_API 3.13 (3.15 defines the Py_mod_gil slot for every version). */
#if PY_VERSION_HEX >= 0x030D0000 \
    && (!defined(Py_LIMITED_API) || Py_LIMITED_API + 0 >= 0x030D0000)
    /* The binding is set once, in exec; a Held is used by one thread. */
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef bf_module = {
    PyModuleDef_HEAD_INIT,
    "_bfcheck",
    "bufferflags.h as an extension author uses it (tests/capi).",
    0,
    bf_methods,
    bf_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__bfcheck(void)
{
    return PyModuleDef_Init(&bf_module);
}
