//! The one place where a `Py_buffer` becomes a Rust borrow.
//!
//! [`FlaggedBuffer`] requests a buffer with `PyBUF_IMMUTABLE` ([`Immutable`]) or
//! `PyBUF_EXCLUSIVE | PyBUF_WRITABLE` ([`ExclusiveWrite`]) in a constructor that returns
//! `Result`, releases it in `Drop`, and lends the memory as `&[u8]` / `&mut [u8]` borrowed from
//! itself, so no slice outlives the release. Every `unsafe` block that touches the buffer is in
//! this file; each one's `SAFETY:` comment names the guarantee it relies on, by the sections of
//! `proposal/semantics.md` (the flags' contract) that give it.
//!
//! The request goes through one function pointer bound once by [`bind`], as `bufferflags.h` does
//! for C: natively (`bufferflags.NATIVE`) it is `PyObject_GetBuffer()`, which enforces the flags
//! (§2 rule 3, §3); on stock CPython it is the shim's `get_buffer` from the capsule
//! `bufferflags._C_API`, which refuses every type that cannot keep the flag (a plain `bytearray`,
//! `array.array`) before its exporter runs (§7.3). Stock `PyObject_GetBuffer()` must never be used
//! for these requests: it ignores the new bits and would hand a `bytearray`'s writable memory back.

use std::ffi::{c_int, CStr};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::OnceLock;

use pyo3_ffi as ffi;

/// §1: nothing — neither the consumer nor any other code — can change the memory while held.
pub const PYBUF_IMMUTABLE: c_int = 0x0400;
/// §1: nothing but this consumer can read or write the memory while held.
pub const PYBUF_EXCLUSIVE: c_int = 0x0800;

/// Proof that this thread is attached to the interpreter (holds the GIL) for `'py`.
///
/// Neither `Send` nor `Sync` (the raw-pointer marker), so [`Gil::allow_threads`]'s closure cannot
/// capture it, nor an [`Object`] or a [`FlaggedBuffer`], which carry it.
#[derive(Clone, Copy)]
pub struct Gil<'py>(PhantomData<(&'py (), *mut ())>);

impl<'py> Gil<'py> {
    /// # Safety
    /// The calling thread has an attached thread state (holds the GIL) for all of `'py`: true in a
    /// function CPython calls, for the duration of that call.
    pub unsafe fn assume() -> Self {
        Gil(PhantomData)
    }

    /// `Py_BEGIN_ALLOW_THREADS`/`Py_END_ALLOW_THREADS` around `f`. `f` is `Send`, so it can hold
    /// the slices a [`FlaggedBuffer`] lends, but not the buffer itself, whose `Drop` calls into
    /// the interpreter, and no other Python object.
    pub fn allow_threads<T, F>(self, f: F) -> T
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        struct Reattach(*mut ffi::PyThreadState);
        impl Drop for Reattach {
            fn drop(&mut self) {
                // SAFETY: self.0 is what PyEval_SaveThread() returned on this thread just before.
                unsafe { ffi::PyEval_RestoreThread(self.0) }
            }
        }
        // SAFETY: `self` proves the thread is attached, as PyEval_SaveThread() requires; the
        // guard re-attaches on every way out of `f` (the crate aborts on panic anyway).
        let _reattach = Reattach(unsafe { ffi::PyEval_SaveThread() });
        f()
    }
}

/// A borrowed reference to a live Python object, valid for `'py`.
#[derive(Clone, Copy)]
pub struct Object<'py>(NonNull<ffi::PyObject>, PhantomData<Gil<'py>>);

impl<'py> Object<'py> {
    /// # Safety
    /// `ptr` is a valid object reference that stays alive for `'py` (an argument CPython passed
    /// to the current call), and the GIL is held for `'py`.
    pub unsafe fn from_borrowed(ptr: *mut ffi::PyObject) -> Option<Self> {
        NonNull::new(ptr).map(|p| Object(p, PhantomData))
    }

    pub fn as_ptr(self) -> *mut ffi::PyObject {
        self.0.as_ptr()
    }
}

/// A Python exception is set on this thread; the caller returns NULL.
#[must_use]
pub struct PyErrSet;

/// Which exception [`raise`] sets.
pub enum Exc {
    BufferError,
    RuntimeError,
    TypeError,
    ValueError,
}

pub fn raise(_gil: Gil<'_>, exc: Exc, msg: &CStr) -> PyErrSet {
    // SAFETY: the GIL is held (`_gil`); the PyExc_* statics are set before any module loads.
    unsafe {
        let exc = match exc {
            Exc::BufferError => ffi::PyExc_BufferError,
            Exc::RuntimeError => ffi::PyExc_RuntimeError,
            Exc::TypeError => ffi::PyExc_TypeError,
            Exc::ValueError => ffi::PyExc_ValueError,
        };
        ffi::PyErr_SetString(exc, msg.as_ptr());
    }
    PyErrSet
}

type GetBuffer = unsafe extern "C" fn(*mut ffi::PyObject, *mut ffi::Py_buffer, c_int) -> c_int;

/// `BufferFlags_CAPI` of `bufferflags.h` (version 1): fields are only ever appended.
#[repr(C)]
struct BufferFlagsCapi {
    version: c_int,
    size: ffi::Py_ssize_t,
    supported_flags: Option<unsafe extern "C" fn(*mut ffi::PyObject) -> c_int>,
    get_buffer: Option<GetBuffer>,
}

const CAPI_VERSION: c_int = 1;

/// The request function: `PyObject_GetBuffer()` natively, the shim's `get_buffer` on stock.
static GET_BUFFER: OnceLock<GetBuffer> = OnceLock::new();

/// Which backend [`bind`] chose: `"native"` or `"capsule"`.
pub fn backend() -> Option<&'static str> {
    let native: GetBuffer = ffi::PyObject_GetBuffer;
    GET_BUFFER
        .get()
        .map(|f| if *f as usize == native as usize { "native" } else { "capsule" })
}

/// `BufferFlags_Import()` of `bufferflags.h`, in Rust: bind to `PyObject_GetBuffer()` where
/// `bufferflags.NATIVE` is true, else to the capsule `bufferflags._C_API` (version and size
/// checked). Called once, from the module's exec slot.
pub fn bind(gil: Gil<'_>) -> Result<(), PyErrSet> {
    // SAFETY: the GIL is held (`gil`); every pointer returned is checked before use, and every
    // new reference is released once.
    let get_buffer: GetBuffer = unsafe {
        let module = ffi::PyImport_ImportModule(c"bufferflags".as_ptr());
        if module.is_null() {
            return Err(PyErrSet);
        }
        let native_attr = ffi::PyObject_GetAttrString(module, c"NATIVE".as_ptr());
        ffi::Py_DECREF(module);
        if native_attr.is_null() {
            return Err(PyErrSet);
        }
        let native = ffi::PyObject_IsTrue(native_attr);
        ffi::Py_DECREF(native_attr);
        match native {
            n if n < 0 => return Err(PyErrSet),
            1 => ffi::PyObject_GetBuffer,
            _ => {
                let api = ffi::PyCapsule_Import(c"bufferflags._C_API".as_ptr(), 0)
                    as *const BufferFlagsCapi;
                if api.is_null() {
                    return Err(PyErrSet);
                }
                // The capsule points to the shim's static struct, which lives as long as the
                // process (the shim's extension is never unloaded).
                let (version, size) = ((*api).version, (*api).size);
                if version < CAPI_VERSION
                    || size < std::mem::size_of::<BufferFlagsCapi>() as ffi::Py_ssize_t
                {
                    return Err(raise(
                        gil,
                        Exc::RuntimeError,
                        c"bufferflags._C_API is older than version 1: upgrade bufferflags",
                    ));
                }
                match (*api).get_buffer {
                    Some(f) => f,
                    None => {
                        return Err(raise(gil, Exc::RuntimeError, c"bufferflags._C_API has no get_buffer"))
                    }
                }
            }
        }
    };
    // One process has one answer (bufferflags.NATIVE is fixed per interpreter build).
    let _ = GET_BUFFER.set(get_buffer);
    Ok(())
}

mod sealed {
    pub trait Sealed {}
}

/// A request and what it promises (§2).
pub trait Mode: sealed::Sealed {
    const FLAGS: c_int;
    /// `readonly` of a granted buffer (§2: immutable requests are granted `readonly=1`,
    /// exclusive writes `readonly=0`).
    const READONLY: c_int;
    const MISGRANTED: &'static CStr;
}

/// `PyBUF_IMMUTABLE`: lends `&[u8]`.
pub enum Immutable {}
/// `PyBUF_EXCLUSIVE | PyBUF_WRITABLE`: lends `&mut [u8]` (and `&[u8]`).
pub enum ExclusiveWrite {}

impl sealed::Sealed for Immutable {}
impl sealed::Sealed for ExclusiveWrite {}

impl Mode for Immutable {
    const FLAGS: c_int = PYBUF_IMMUTABLE;
    const READONLY: c_int = 1;
    const MISGRANTED: &'static CStr =
        c"the exporter granted PyBUF_IMMUTABLE a writable buffer: it does not implement the flag";
}

impl Mode for ExclusiveWrite {
    const FLAGS: c_int = PYBUF_EXCLUSIVE | ffi::PyBUF_WRITABLE;
    const READONLY: c_int = 0;
    const MISGRANTED: &'static CStr =
        c"the exporter granted PyBUF_EXCLUSIVE | PyBUF_WRITABLE a read-only buffer";
}

/// A buffer held with the flags of `M`, from [`FlaggedBuffer::acquire`] to `Drop`.
///
/// Not `Send`/`Sync` (it carries [`Gil`]): it is released on the thread that acquired it, with
/// the GIL held, and never inside [`Gil::allow_threads`]; the slices it lends are `Send` and may
/// go there. The `Py_buffer` is boxed so that its address stays the one the exporter saw.
pub struct FlaggedBuffer<'py, M: Mode> {
    view: Box<ffi::Py_buffer>,
    _gil: PhantomData<Gil<'py>>,
    _mode: PhantomData<M>,
}

impl<'py, M: Mode> FlaggedBuffer<'py, M> {
    /// Requests `M::FLAGS` of `obj`. `Err` (with `BufferConflictError` for a conflict with what
    /// is held, `BufferError` for a type that cannot promise the flag, §6) leaves nothing held.
    pub fn acquire(gil: Gil<'py>, obj: Object<'py>) -> Result<Self, PyErrSet> {
        let Some(get_buffer) = GET_BUFFER.get() else {
            return Err(raise(gil, Exc::RuntimeError, c"rustbuf: bufferflags is not bound"));
        };
        let mut view = Box::new(ffi::Py_buffer::new());
        // SAFETY: the GIL is held (`gil`), `obj` is alive for 'py, `view` is a writable
        // Py_buffer. get_buffer has PyObject_GetBuffer()'s contract (bufferflags.h): on success
        // it fills `view` and holds a reference to the exporter in view.obj until the release.
        if unsafe { get_buffer(obj.as_ptr(), &mut *view, M::FLAGS) } < 0 {
            return Err(PyErrSet);
        }
        // From here on Drop releases the buffer, on the error paths below too.
        let this = FlaggedBuffer { view, _gil: PhantomData, _mode: PhantomData };
        // Fail closed on an exporter that ignored the request (§2): it would not keep it either.
        if this.view.readonly != M::READONLY {
            return Err(raise(gil, Exc::BufferError, M::MISGRANTED));
        }
        if this.view.len < 0 || (this.view.len > 0 && this.view.buf.is_null()) {
            return Err(raise(gil, Exc::BufferError, c"the exporter returned an invalid buffer"));
        }
        Ok(this)
    }

    pub fn len(&self) -> usize {
        self.view.len as usize // checked >= 0 in acquire
    }

    fn ptr(&self) -> *mut u8 {
        if self.view.len == 0 {
            NonNull::<u8>::dangling().as_ptr() // a slice never has a null pointer
        } else {
            self.view.buf.cast()
        }
    }

    /// The held memory, for as long as `self` is borrowed.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY (from_raw_parts): `ptr()` is non-null, u8 needs no alignment, and the request
        // carried no PyBUF_ND/PyBUF_STRIDES, so a granted buffer is one contiguous block of
        // `len` bytes (PEP 3118's simple buffer; len <= isize::MAX, it is a Py_ssize_t). The
        // exporter keeps it allocated until PyBuffer_Release() in Drop: view.obj holds a
        // reference, and §3.2 refuses every resize while an export is held; the borrow of
        // `self` ends before Drop. Nothing writes it while the borrow lives:
        //  - Immutable: §1 "nothing — neither a consumer nor any other code — can change the
        //    memory" while the buffer is held; §3.1: writable and exclusive requests are refused
        //    and a plain one is granted read-only; §3.2: the object's own in-place writes and
        //    resizes are refused; §2 rule 3: a type that cannot promise this is refused before
        //    its exporter runs (natively by PyObject_GetBuffer(), on stock CPython by the
        //    capsule's get_buffer, §7.3), and acquire() checked readonly=1.
        //  - ExclusiveWrite: §1 "nothing but this consumer can read or write the memory";
        //    §3.1 row EXCLUSIVE refuses every request, §3.2 every own read, write and resize,
        //    and §3.1 grants it only from FREE with no read in progress (raw `ob_exports` pins
        //    included, §4). The only writer is `as_mut_slice`, which needs `&mut self`.
        //  On free-threaded builds the grant and every own operation are atomic with respect to
        //  each other (§7.4). What the spec leaves outside (the trust this rests on): C code that
        //  bypasses the buffer protocol (§7.1: PyByteArray_AS_STRING(), a pointer kept after a
        //  release), a consumer writing through a read-only buffer it was granted (§7.2), on the
        //  shim base-class calls such as `bytearray.__setitem__(lb, i, v)` (§7.3), and an export
        //  of a view lent for one call kept past it (§3.3, open).
        //  The bytes are initialized: exporters expose initialized memory (bytearray, array,
        //  bytes zero-fill or copy into every byte they hand out).
        unsafe { std::slice::from_raw_parts(self.ptr(), self.len()) }
    }
}

impl<'py> FlaggedBuffer<'py, ExclusiveWrite> {
    /// The held memory, writable, for as long as `self` is mutably borrowed.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice` for ExclusiveWrite, and also: acquire() checked readonly=0,
        // so the exporter lets this consumer write (§2: exclusive write is granted `readonly=0`);
        // §1/§3.1/§3.2 EXCLUSIVE: no other export, own read or own write of the object can
        // happen while the buffer is held, so this is the only reference to the memory, as
        // `&mut` requires, for as long as `self` is mutably borrowed (which also excludes
        // `as_slice`).
        unsafe { std::slice::from_raw_parts_mut(self.ptr(), self.len()) }
    }
}

impl<M: Mode> Drop for FlaggedBuffer<'_, M> {
    fn drop(&mut self) {
        // SAFETY: the view was filled by a successful get_buffer and is released once, here,
        // on the acquiring thread with the GIL held (the type is not Send and cannot enter
        // allow_threads); no slice of it is alive (they borrow `self`).
        unsafe { ffi::PyBuffer_Release(&mut *self.view) }
    }
}
