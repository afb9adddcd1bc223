/* tests/capi/_twofile_main.c and _twofile_helper.c: one extension module
 * made of two C files, the way a larger extension is laid out.  Both use
 * bufferflags.h; only the main file's module init calls BufferFlags_Import().
 *
 * Built with -DTWOFILE_UNIQUE (the header's unique-symbol mode) the helper
 * shares the main file's binding; built without it each file has its own
 * static binding and the helper's is never made: the failure the mode exists
 * to prevent (RuntimeError: call BufferFlags_Import() first). */
#ifndef TWOFILE_H
#define TWOFILE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#ifdef TWOFILE_UNIQUE
#  define BUFFERFLAGS_UNIQUE_SYMBOL twofile_bufferflags_api
#  ifndef TWOFILE_MAIN
#    define BUFFERFLAGS_NO_IMPORT
#  endif
#endif
#include "bufferflags.h"

/* _twofile_helper.c: the sum of obj's bytes, read under PyBUF_IMMUTABLE
 * with the GIL released, and BufferFlags_SupportedFlags(obj). */
PyObject *twofile_immutable_sum(PyObject *module, PyObject *obj);
PyObject *twofile_supported(PyObject *module, PyObject *obj);

#endif
