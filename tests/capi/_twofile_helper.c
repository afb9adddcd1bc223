/* The second file of the two-file extension (see _twofile.h): it uses
 * bufferflags.h but never calls BufferFlags_Import(). */
#include "_twofile.h"

PyObject *
twofile_immutable_sum(PyObject *module, PyObject *obj)
{
    Py_buffer view;
    unsigned long long sum = 0;

    (void)module;
    if (BufferFlags_GetBuffer(obj, &view, PyBUF_IMMUTABLE) < 0) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    const unsigned char *p = view.buf;
    for (Py_ssize_t i = 0; i < view.len; i++) {
        sum += p[i];
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(sum);
}

PyObject *
twofile_supported(PyObject *module, PyObject *obj)
{
    int flags;

    (void)module;
    flags = BufferFlags_SupportedFlags(obj);
    return flags < 0 ? NULL : PyLong_FromLong(flags);
}
