/* Types made in C, as an extension makes them, for the declaration rules
 * (PEP: Declaring supported flags; semantics §5):
 *
 *   subclass(base, name, immutabletype, declare) -> type
 *       a subclass of base made with PyType_FromSpecWithBases(); declare is
 *       -1 for no declaration of its own, or the flags its "module
 *       initialisation" writes into its dict as __buffer_flags__;
 *   StaticByteArraySub
 *       a static subclass of bytearray that declares nothing, as an
 *       extension written before the PEP has;
 *   declaring(flags) -> type WritableExporter
 *       an exporter of 8 writable bytes whose declaration (written into the
 *       dict of a new type) is whatever the caller says: a false one must
 *       get nothing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static int
declare_in_dict(PyObject *type, int flags)
{
    PyObject *value = PyLong_FromLong(flags);
    if (value == NULL) {
        return -1;
    }
    int rc = PyDict_SetItemString(((PyTypeObject *)type)->tp_dict,
                                  "__buffer_flags__", value);
    Py_DECREF(value);
    PyType_Modified((PyTypeObject *)type);
    return rc;
}

static PyType_Slot no_slots[] = {{0, NULL}};

static PyObject *
subclass(PyObject *module, PyObject *args)
{
    PyObject *base;
    const char *name;
    int immutabletype, declare;

    if (!PyArg_ParseTuple(args, "O!spi:subclass", &PyType_Type, &base,
                          &name, &immutabletype, &declare)) {
        return NULL;
    }
    PyType_Spec spec = {
        .name = name,
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE
                 | (immutabletype ? Py_TPFLAGS_IMMUTABLETYPE : 0),
        .slots = no_slots,
    };
    PyObject *type = PyType_FromSpecWithBases(&spec, base);
    if (type != NULL && declare >= 0 && declare_in_dict(type, declare) < 0) {
        Py_CLEAR(type);
    }
    return type;
}

/* An exporter of writable memory. */
typedef struct {
    PyObject_HEAD
    char data[8];
    Py_ssize_t exports;
} WritableObject;

static int
writable_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    WritableObject *w = (WritableObject *)self;
    if (PyBuffer_FillInfo(view, self, w->data, sizeof(w->data), 0, flags) < 0) {
        return -1;
    }
    w->exports++;
    return 0;
}

static void
writable_releasebuffer(PyObject *self, Py_buffer *view)
{
    ((WritableObject *)self)->exports--;
}

static PyObject *
writable_exports(PyObject *self, void *closure)
{
    return PyLong_FromSsize_t(((WritableObject *)self)->exports);
}

static PyGetSetDef writable_getset[] = {
    {"exports", writable_exports, NULL, "exports held", NULL},
    {NULL},
};

static PyType_Slot writable_slots[] = {
    {Py_bf_getbuffer, writable_getbuffer},
    {Py_bf_releasebuffer, writable_releasebuffer},
    {Py_tp_getset, writable_getset},
    {0, NULL},
};

static PyObject *
declaring(PyObject *module, PyObject *arg)
{
    long flags = PyLong_AsLong(arg);
    if (flags == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyType_Spec spec = {
        .name = "_subtypes.WritableExporter",
        .basicsize = sizeof(WritableObject),
        .flags = Py_TPFLAGS_DEFAULT,
        .slots = writable_slots,
    };
    PyObject *type = PyType_FromSpec(&spec);
    if (type != NULL && declare_in_dict(type, (int)flags) < 0) {
        Py_CLEAR(type);
    }
    return type;
}

static PyTypeObject StaticByteArraySub = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_subtypes.StaticByteArraySub",
    .tp_basicsize = sizeof(PyByteArrayObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A static bytearray subclass that declares nothing.",
};

static PyMethodDef methods[] = {
    {"subclass", subclass, METH_VARARGS, NULL},
    {"declaring", declaring, METH_O, NULL},
    {NULL},
};

static int
exec_module(PyObject *module)
{
    StaticByteArraySub.tp_base = &PyByteArray_Type;
    if (PyType_Ready(&StaticByteArraySub) < 0) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "StaticByteArraySub",
                                 (PyObject *)&StaticByteArraySub);
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "_subtypes", NULL, 0, methods, slots,
};

PyMODINIT_FUNC
PyInit__subtypes(void)
{
    return PyModuleDef_Init(&moduledef);
}
