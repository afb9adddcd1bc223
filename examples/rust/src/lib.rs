//! `rustbuf`: a Rust consumer of `PyBUF_IMMUTABLE` and `PyBUF_EXCLUSIVE` (issue 18).
//!
//! - `digest(obj)` requests `PyBUF_IMMUTABLE` and hashes a `&[u8]` of `obj` (64-bit FNV-1a, as
//!   `examples/checksum`) with the GIL released;
//! - `fill(obj, byte)` requests `PyBUF_EXCLUSIVE | PyBUF_WRITABLE` and writes `byte` into every
//!   byte of a `&mut [u8]` of `obj` with the GIL released; it returns the number of bytes.
//!
//! One source for both backends: natively through `PyObject_GetBuffer()`, on stock CPython
//! through the shim's capsule `bufferflags._C_API` (see `flagged::bind`). The buffer handling,
//! and every `unsafe` block that touches the memory, is `flagged::FlaggedBuffer`; this file
//! only has the unsafe of any C-API module (argument pointers, the module definition).
#![deny(unsafe_op_in_unsafe_fn)]

mod flagged;

use std::ffi::c_int;
use std::ptr;

use pyo3_ffi as ffi;

use flagged::{raise, Exc, ExclusiveWrite, FlaggedBuffer, Gil, Immutable, Object, PyErrSet};

fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in data {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    h
}

fn digest_impl(gil: Gil<'_>, obj: Object<'_>) -> Result<u64, PyErrSet> {
    let buf = FlaggedBuffer::<Immutable>::acquire(gil, obj)?;
    let bytes: &[u8] = buf.as_slice();
    Ok(gil.allow_threads(move || fnv1a(bytes)))
    // `buf` is dropped here: released with the GIL held, after the last use of `bytes`.
}

fn fill_impl(gil: Gil<'_>, obj: Object<'_>, byte: u8) -> Result<usize, PyErrSet> {
    let mut buf = FlaggedBuffer::<ExclusiveWrite>::acquire(gil, obj)?;
    let bytes: &mut [u8] = buf.as_mut_slice();
    Ok(gil.allow_threads(move || {
        bytes.fill(byte);
        bytes.len()
    }))
}

/// Converts a result for CPython: a new reference, or NULL with the exception set.
fn finish<T>(result: Result<T, PyErrSet>, to_py: impl FnOnce(T) -> *mut ffi::PyObject) -> *mut ffi::PyObject {
    match result {
        Ok(value) => to_py(value),
        Err(PyErrSet) => ptr::null_mut(),
    }
}

unsafe extern "C" fn digest(_module: *mut ffi::PyObject, arg: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a METH_O function with the GIL held and `arg` a borrowed reference
    // alive for the call.
    let (gil, obj) = unsafe { (Gil::assume(), Object::from_borrowed(arg)) };
    let result = obj.ok_or_else(|| raise(gil, Exc::TypeError, c"digest() needs an object"));
    // SAFETY: GIL held; returns a new reference or NULL with an exception set.
    finish(result.and_then(|obj| digest_impl(gil, obj)), |h| unsafe {
        ffi::PyLong_FromUnsignedLongLong(h)
    })
}

/// fill()'s arguments, converted before anything is requested ("arguments first", §3.2: the
/// byte's `__index__` runs while nothing is held).
///
/// # Safety
/// The GIL is held for `'py` and `args` has `nargs` borrowed references alive for `'py`.
unsafe fn fill_args<'py>(
    gil: Gil<'py>,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> Result<(Object<'py>, u8), PyErrSet> {
    if nargs != 2 {
        return Err(raise(gil, Exc::TypeError, c"fill() takes exactly 2 arguments (obj, byte)"));
    }
    // SAFETY: the caller's contract; PyLong_AsLong needs the GIL and a live object.
    let (obj, byte) = unsafe {
        let (obj, value) = (*args, *args.add(1));
        let byte = ffi::PyLong_AsLong(value);
        if byte == -1 && !ffi::PyErr_Occurred().is_null() {
            return Err(PyErrSet);
        }
        (Object::from_borrowed(obj), byte)
    };
    let obj = obj.ok_or_else(|| raise(gil, Exc::TypeError, c"fill() needs an object"))?;
    let byte = u8::try_from(byte)
        .map_err(|_| raise(gil, Exc::ValueError, c"byte must be in range(0, 256)"))?;
    Ok((obj, byte))
}

unsafe extern "C" fn fill(
    _module: *mut ffi::PyObject,
    args: *mut *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls a METH_FASTCALL function with the GIL held and `nargs` borrowed
    // references in `args`, alive for the call.
    let (gil, parsed) = unsafe {
        let gil = Gil::assume();
        (gil, fill_args(gil, args, nargs))
    };
    // SAFETY: GIL held; returns a new reference or NULL with an exception set.
    finish(parsed.and_then(|(obj, byte)| fill_impl(gil, obj, byte)), |n| unsafe {
        ffi::PyLong_FromSize_t(n)
    })
}

unsafe extern "C" fn backend(_module: *mut ffi::PyObject, _unused: *mut ffi::PyObject) -> *mut ffi::PyObject {
    let name = flagged::backend().unwrap_or("unbound");
    // SAFETY: GIL held (called by CPython); the pointer and length describe a live str.
    unsafe { ffi::PyUnicode_FromStringAndSize(name.as_ptr().cast(), name.len() as ffi::Py_ssize_t) }
}

unsafe extern "C" fn exec_module(_module: *mut ffi::PyObject) -> c_int {
    // SAFETY: CPython runs a module's exec slot with the GIL held.
    let gil = unsafe { Gil::assume() };
    match flagged::bind(gil) {
        Ok(()) => 0,
        Err(PyErrSet) => -1,
    }
}

static mut METHODS: [ffi::PyMethodDef; 4] = [
    ffi::PyMethodDef {
        ml_name: c"digest".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer { PyCFunction: digest },
        ml_flags: ffi::METH_O,
        ml_doc: c"digest(obj) -> int\n--\n\n64-bit FNV-1a of obj's bytes, read as a Rust &[u8] of a \
PyBUF_IMMUTABLE buffer with the GIL released."
            .as_ptr(),
    },
    ffi::PyMethodDef {
        ml_name: c"fill".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer { PyCFunctionFast: fill },
        ml_flags: ffi::METH_FASTCALL,
        ml_doc: c"fill(obj, byte) -> int\n--\n\nWrite byte into every byte of obj through a Rust \
&mut [u8] of a PyBUF_EXCLUSIVE | PyBUF_WRITABLE buffer with the GIL released; returns the count."
            .as_ptr(),
    },
    ffi::PyMethodDef {
        ml_name: c"backend".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer { PyCFunction: backend },
        ml_flags: ffi::METH_NOARGS,
        ml_doc: c"'native' (PyObject_GetBuffer) or 'capsule' (bufferflags._C_API)".as_ptr(),
    },
    ffi::PyMethodDef::zeroed(),
];

const SLOTS_LEN: usize = 2 + cfg!(Py_3_12) as usize + cfg!(Py_GIL_DISABLED) as usize;
static mut SLOTS: [ffi::PyModuleDef_Slot; SLOTS_LEN] = [
    ffi::PyModuleDef_Slot { slot: ffi::Py_mod_exec, value: exec_module as *mut _ },
    // The binding is one per process, as the shim itself (which refuses subinterpreters).
    #[cfg(Py_3_12)]
    ffi::PyModuleDef_Slot {
        slot: ffi::Py_mod_multiple_interpreters,
        value: ffi::Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED,
    },
    // No state of ours needs the GIL: the binding is a OnceLock, the rest is per call.
    #[cfg(Py_GIL_DISABLED)]
    ffi::PyModuleDef_Slot { slot: ffi::Py_mod_gil, value: ffi::Py_MOD_GIL_NOT_USED },
    ffi::PyModuleDef_Slot { slot: 0, value: ptr::null_mut() },
];

static mut MODULE_DEF: ffi::PyModuleDef = ffi::PyModuleDef {
    m_base: ffi::PyModuleDef_HEAD_INIT,
    m_name: c"rustbuf".as_ptr(),
    m_doc: c"digest() and fill(): Rust borrows of buffers made sound by PyBUF_IMMUTABLE and \
PyBUF_EXCLUSIVE."
        .as_ptr(),
    m_size: 0,
    m_methods: ptr::addr_of_mut!(METHODS).cast(),
    m_slots: ptr::addr_of_mut!(SLOTS).cast(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

#[allow(non_snake_case)]
#[no_mangle]
pub unsafe extern "C" fn PyInit_rustbuf() -> *mut ffi::PyObject {
    // SAFETY: CPython calls PyInit_* once per import with the GIL held; MODULE_DEF lives forever.
    unsafe { ffi::PyModuleDef_Init(ptr::addr_of_mut!(MODULE_DEF)) }
}
