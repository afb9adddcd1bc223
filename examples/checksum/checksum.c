/* checksum: a checksum of bytes that nothing can change while it is taken.
 *
 * The loop runs with the GIL released, so without PyBUF_IMMUTABLE another
 * thread could write the bytes mid-read and the result would describe no
 * state the object was ever in.  Build: see README.md in this directory.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include "bufferflags.h"

static PyObject *
checksum(PyObject *module, PyObject *obj)
{
    Py_buffer view;
    uint64_t h = 0xcbf29ce484222325u;   /* 64-bit FNV-1a */

    /* BufferError unless obj's type can promise PyBUF_IMMUTABLE, or while
       someone holds a writable or exclusive buffer of it. */
    if (BufferFlags_GetBuffer(obj, &view, PyBUF_IMMUTABLE) < 0) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    const unsigned char *p = view.buf;
    for (Py_ssize_t i = 0; i < view.len; i++) {
        h = (h ^ p[i]) * 0x100000001b3u;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(h);
}

static PyMethodDef checksum_methods[] = {
    {"checksum", checksum, METH_O,
     "checksum(obj) -> 64-bit FNV-1a of obj's bytes, which nothing can "
     "change while they are read"},
    {NULL, NULL, 0, NULL}
};

static int
checksum_exec(PyObject *module)
{
    return BufferFlags_Import();
}

static PyModuleDef_Slot checksum_slots[] = {
    {Py_mod_exec, checksum_exec},
/* Py_MOD_GIL_NOT_USED exists from 3.13, and under the limited API only from
   Py_LIMITED_API 3.13 (3.15 defines the Py_mod_gil slot for every version). */
#if PY_VERSION_HEX >= 0x030D0000 \
    && (!defined(Py_LIMITED_API) || Py_LIMITED_API + 0 >= 0x030D0000)
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef checksum_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "checksum",
    .m_doc = "bufferflags.h in use: a checksum taken with the GIL released.",
    .m_size = 0,
    .m_methods = checksum_methods,
    .m_slots = checksum_slots,
};

PyMODINIT_FUNC
PyInit_checksum(void)
{
    return PyModuleDef_Init(&checksum_module);
}
