/* The main file of the two-file extension (see _twofile.h): module init,
 * which calls BufferFlags_Import() once for the whole extension. */
#define TWOFILE_MAIN
#include "_twofile.h"

/* The main file's own use of the binding, next to the helper's. */
static PyObject *
main_supported(PyObject *module, PyObject *obj)
{
    int flags;

    (void)module;
    flags = BufferFlags_SupportedFlags(obj);
    return flags < 0 ? NULL : PyLong_FromLong(flags);
}

static PyMethodDef twofile_methods[] = {
    {"immutable_sum", twofile_immutable_sum, METH_O,
     "sum of obj's bytes under PyBUF_IMMUTABLE (_twofile_helper.c)"},
    {"helper_supported", twofile_supported, METH_O,
     "BufferFlags_SupportedFlags(obj) from _twofile_helper.c"},
    {"main_supported", main_supported, METH_O,
     "BufferFlags_SupportedFlags(obj) from _twofile_main.c"},
    {NULL, NULL, 0, NULL}
};

static int
twofile_exec(PyObject *module)
{
    (void)module;
    return BufferFlags_Import();
}

static PyModuleDef_Slot twofile_slots[] = {
    {Py_mod_exec, twofile_exec},
#if PY_VERSION_HEX >= 0x030D0000 \
    && (!defined(Py_LIMITED_API) || Py_LIMITED_API + 0 >= 0x030D0000)
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef twofile_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_twofile",
    .m_doc = "bufferflags.h from two C files of one extension.",
    .m_size = 0,
    .m_methods = twofile_methods,
    .m_slots = twofile_slots,
};

PyMODINIT_FUNC
PyInit__twofile(void)
{
    return PyModuleDef_Init(&twofile_module);
}
