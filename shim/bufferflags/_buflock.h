/* Reader/writer state of a locked buffer exporter.
 *
 * This is the state machine of proposal/semantics.md, sections 3 and 4,
 * written once: the bufferflags shim compiles this file, and the CPython
 * patch series carries a byte-identical copy as
 * Include/internal/pycore_buflock.h.
 *
 * The state is one Py_ssize_t word: a mode in the two bits below the sign
 * bit, then the count of the holds that keep the mode (exports and own
 * writes in progress), then, in the low bits, the count of the reads in
 * progress that set no mode (the object's own reads, and C code that pins
 * the object with "ob_exports++ ... ob_exports--" around a read, as
 * bytearray's users always could).  The release that ends the last hold of
 * a mode clears the mode, so a mode never outlives the holds that keep it,
 * and the word is 0 exactly when nothing is held: "word > 0" still means
 * "exported or in use".  The words are ordered by mode, FREE < SHARED <
 * IMMUTABLE < EXCLUSIVE, so each question the common paths ask ("may I
 * read?", "may I write?") is one compare of the whole word.
 *
 * The includer provides three macros before including this file:
 *   _Py_BUFLOCK_LOAD(ptr)     atomic load of a Py_ssize_t
 *   _Py_BUFLOCK_CAS(ptr, expected, desired)
 *                             atomic compare-and-swap; on failure stores the
 *                             current value in *expected and evaluates to 0
 *   _Py_BUFLOCK_CONFLICT_ERROR
 *                             the exception raised for a refusal because of
 *                             a held state (BufferConflictError)
 */
#ifndef Py_INTERNAL_BUFLOCK_H
#define Py_INTERNAL_BUFLOCK_H

/* Outside CPython, the bufferflags shim compiles this file as it is and
   defines _Py_BUFLOCK_OUTSIDE_CORE to say so. */
#if !defined(Py_BUILD_CORE) && !defined(_Py_BUFLOCK_OUTSIDE_CORE)
#  error "this header requires Py_BUILD_CORE define"
#endif

#ifndef PyBUF_IMMUTABLE
#  define PyBUF_IMMUTABLE 0x0400
#endif
#ifndef PyBUF_EXCLUSIVE
#  define PyBUF_EXCLUSIVE 0x0800
#endif
#define _Py_BUFLOCK_KNOWN_FLAGS 0x0FFD

/* Raising a conflict is kept out of line, so that the paths that check
 * for one stay small. */
#if defined(__GNUC__) || defined(__clang__)
#  define _Py_BUFLOCK_OUT_OF_LINE static __attribute__((noinline, unused))
#else
#  define _Py_BUFLOCK_OUT_OF_LINE static inline
#endif

#define _Py_BUFLOCK_FREE      0
#define _Py_BUFLOCK_SHARED    1
#define _Py_BUFLOCK_IMMUTABLE 2
#define _Py_BUFLOCK_EXCLUSIVE 3

#define _Py_BUFLOCK_MODE_SHIFT (8 * (int)sizeof(Py_ssize_t) - 3)
/* 30 bits of reads and 31 of holds with a 64-bit word, 14 and 15 with a
   32-bit one. */
#define _Py_BUFLOCK_HOLDS_SHIFT (_Py_BUFLOCK_MODE_SHIFT / 2)
#define _Py_BUFLOCK_READS_MASK (((Py_ssize_t)1 << _Py_BUFLOCK_HOLDS_SHIFT) - 1)
#define _Py_BUFLOCK_MAX_HOLDS \
    (((Py_ssize_t)1 << (_Py_BUFLOCK_MODE_SHIFT - _Py_BUFLOCK_HOLDS_SHIFT)) - 1)
#define _Py_BUFLOCK_ONE_HOLD ((Py_ssize_t)1 << _Py_BUFLOCK_HOLDS_SHIFT)
#define _Py_BUFLOCK_ONE_READ ((Py_ssize_t)1)

#define _Py_BUFLOCK_MODE(word) ((int)((word) >> _Py_BUFLOCK_MODE_SHIFT))
#define _Py_BUFLOCK_HOLDS(word) \
    (((word) >> _Py_BUFLOCK_HOLDS_SHIFT) & _Py_BUFLOCK_MAX_HOLDS)
#define _Py_BUFLOCK_READS(word) ((word) & _Py_BUFLOCK_READS_MASK)
/* No room for one more hold, or one more read: such a request is refused. */
#define _Py_BUFLOCK_HOLDS_FULL(word) \
    (_Py_BUFLOCK_HOLDS(word) == _Py_BUFLOCK_MAX_HOLDS)
#define _Py_BUFLOCK_READS_FULL(word) \
    (_Py_BUFLOCK_READS(word) == _Py_BUFLOCK_READS_MASK)
#define _Py_BUFLOCK_WORD(mode, holds, reads) \
    (((Py_ssize_t)(mode) << _Py_BUFLOCK_MODE_SHIFT) \
     | ((Py_ssize_t)(holds) << _Py_BUFLOCK_HOLDS_SHIFT) | (reads))

/* Neither an exclusive export nor a resize: the contents may be read. */
#define _Py_BUFLOCK_MAY_READ(word) \
    ((word) < _Py_BUFLOCK_WORD(_Py_BUFLOCK_EXCLUSIVE, 0, 0))
/* FREE or SHARED: the contents may be written, or exported writable. */
#define _Py_BUFLOCK_MAY_WRITE(word) \
    ((word) < _Py_BUFLOCK_WORD(_Py_BUFLOCK_IMMUTABLE, 0, 0))
/* FREE, or SHARED with room for one more hold: in FREE mode the count of
   holds is 0, so this is MAY_WRITE and the limit in one compare. */
#define _Py_BUFLOCK_MAY_ADD_WRITER(word) \
    ((word) < _Py_BUFLOCK_WORD(_Py_BUFLOCK_SHARED, _Py_BUFLOCK_MAX_HOLDS, 0))
/* The SHARED bit: set in SHARED and EXCLUSIVE mode, which is where an
   immutable export is refused. */
#define _Py_BUFLOCK_SHARED_BIT _Py_BUFLOCK_WORD(_Py_BUFLOCK_SHARED, 0, 0)
#define _Py_BUFLOCK_IMMUTABLE_BIT _Py_BUFLOCK_WORD(_Py_BUFLOCK_IMMUTABLE, 0, 0)
/* Another holder's exclusive export (not a resize in progress): repr()
   says so instead of reading the contents. */
#define _Py_BUFLOCK_HELD_EXCLUSIVELY(word) \
    (_Py_BUFLOCK_MODE(word) == _Py_BUFLOCK_EXCLUSIVE \
     && (word) != _Py_BUFLOCK_RESIZING)

/* What is asked of the state: an export request (classified from its
 * PyBUF_* flags) or one of the object's own operations. */
typedef enum {
    _Py_BUFLOCK_OWN_READ,
    _Py_BUFLOCK_OWN_WRITE,
    _Py_BUFLOCK_PLAIN,
    _Py_BUFLOCK_WRITABLE,
    _Py_BUFLOCK_IMMUTABLE_READ,
    _Py_BUFLOCK_EXCLUSIVE_READ,
    _Py_BUFLOCK_EXCLUSIVE_WRITE,
} _PyBufLock_Request;

/* Flag bits a request may not carry, or 0. */
static inline int
_PyBufLock_BadFlags(int flags)
{
    return flags & ~_Py_BUFLOCK_KNOWN_FLAGS;
}

static inline int
_PyBufLock_Contradictory(int flags)
{
    return (flags & PyBUF_IMMUTABLE) && (flags & PyBUF_WRITABLE);
}

/* Classify a request already checked by the two functions above. */
static inline _PyBufLock_Request
_PyBufLock_Classify(int flags)
{
    if (flags & PyBUF_EXCLUSIVE) {
        return (flags & PyBUF_WRITABLE) ? _Py_BUFLOCK_EXCLUSIVE_WRITE
                                        : _Py_BUFLOCK_EXCLUSIVE_READ;
    }
    if (flags & PyBUF_IMMUTABLE) {
        return _Py_BUFLOCK_IMMUTABLE_READ;
    }
    return (flags & PyBUF_WRITABLE) ? _Py_BUFLOCK_WRITABLE : _Py_BUFLOCK_PLAIN;
}

/* The table of semantics.md sections 3.1 and 3.2 as a pure function.
 * Returns 0 and fills *new_word and *readonly when granted, -1 when
 * refused.  An own read adds a read; everything else adds a hold of the
 * mode it is granted in (a plain export granted read-only in IMMUTABLE mode
 * is an immutable reader), so that every export ends with the same
 * _PyBufLock_Release(). */
static inline int
_PyBufLock_Transition(Py_ssize_t word, _PyBufLock_Request request,
                      Py_ssize_t *new_word, int *readonly)
{
    *readonly = 1;
    switch (request) {
    case _Py_BUFLOCK_OWN_READ:
        if (!_Py_BUFLOCK_MAY_READ(word) || _Py_BUFLOCK_READS_FULL(word)) {
            return -1;
        }
        *new_word = word + _Py_BUFLOCK_ONE_READ;   /* in the same mode */
        return 0;
    case _Py_BUFLOCK_PLAIN:
        if (!_Py_BUFLOCK_MAY_WRITE(word)) {
            if (!_Py_BUFLOCK_MAY_READ(word) || _Py_BUFLOCK_HOLDS_FULL(word)) {
                return -1;
            }
            /* one more immutable reader */
            *new_word = word + _Py_BUFLOCK_ONE_HOLD;
            return 0;
        }
        /* fall through - elsewhere a plain read counts as a writer */
    case _Py_BUFLOCK_OWN_WRITE:
    case _Py_BUFLOCK_WRITABLE:
        if (!_Py_BUFLOCK_MAY_ADD_WRITER(word)) {
            return -1;
        }
        *readonly = 0;
        *new_word = (word | _Py_BUFLOCK_SHARED_BIT) + _Py_BUFLOCK_ONE_HOLD;
        return 0;
    case _Py_BUFLOCK_IMMUTABLE_READ:
        /* FREE or IMMUTABLE */
        if ((word & _Py_BUFLOCK_SHARED_BIT) || _Py_BUFLOCK_HOLDS_FULL(word)) {
            return -1;
        }
        *new_word = (word | _Py_BUFLOCK_IMMUTABLE_BIT) + _Py_BUFLOCK_ONE_HOLD;
        return 0;
    case _Py_BUFLOCK_EXCLUSIVE_READ:
    case _Py_BUFLOCK_EXCLUSIVE_WRITE:
        if (word != 0) {
            return -1;
        }
        *readonly = (request == _Py_BUFLOCK_EXCLUSIVE_READ);
        *new_word = _Py_BUFLOCK_WORD(_Py_BUFLOCK_EXCLUSIVE, 1, 0);
        return 0;
    }
    return -1;
}

/* Enter the state for `request`.  On refusal returns -1 and stores the
 * word that refused it in *seen (for the error message); nothing changes. */
static inline int
_PyBufLock_Acquire(Py_ssize_t *word, _PyBufLock_Request request,
                   int *readonly, Py_ssize_t *seen)
{
    Py_ssize_t old = _Py_BUFLOCK_LOAD(word);
    Py_ssize_t new_word;
    do {
        if (_PyBufLock_Transition(old, request, &new_word, readonly) < 0) {
            *seen = old;
            return -1;
        }
    } while (!_Py_BUFLOCK_CAS(word, &old, new_word));
    return 0;
}

/* End a hold: an export of any kind, or an own write.  The same for every
 * export, which is why a release never needs to know what it releases. */
static inline void
_PyBufLock_Release(Py_ssize_t *word)
{
    Py_ssize_t old = _Py_BUFLOCK_LOAD(word);
    Py_ssize_t new_word;
    do {
        new_word = old - _Py_BUFLOCK_ONE_HOLD;
        if (_Py_BUFLOCK_HOLDS(new_word) == 0) {
            /* The last hold of the mode clears it; reads stay. */
            new_word = _Py_BUFLOCK_READS(new_word);
        }
    } while (!_Py_BUFLOCK_CAS(word, &old, new_word));
}

/* End an own read.  The mode stays: the read never set it. */
static inline void
_PyBufLock_ReleaseRead(Py_ssize_t *word)
{
    Py_ssize_t old = _Py_BUFLOCK_LOAD(word);
    while (!_Py_BUFLOCK_CAS(word, &old, old - _Py_BUFLOCK_ONE_READ)) {
    }
}

/* End the own operation that `request` entered. */
static inline void
_PyBufLock_Leave(Py_ssize_t *word, _PyBufLock_Request request)
{
    if (request == _Py_BUFLOCK_OWN_READ) {
        _PyBufLock_ReleaseRead(word);
    }
    else {
        _PyBufLock_Release(word);
    }
}

/* A resize holds the word at _Py_BUFLOCK_RESIZING from its check to its last
 * write (moving the tail, reallocating, copying the new bytes in), so that
 * no export and no own operation, from another thread on the free-threaded
 * build, can slip in between.  Mode EXCLUSIVE refuses every request; the
 * full count of holds, which no real holder reaches, names it in error
 * messages. */
#define _Py_BUFLOCK_RESIZING \
    _Py_BUFLOCK_WORD(_Py_BUFLOCK_EXCLUSIVE, _Py_BUFLOCK_MAX_HOLDS, 0)

/* Enter the resize state, only from FREE with no holder.  On refusal
 * returns -1 and stores the word that refused it in *seen. */
static inline int
_PyBufLock_BeginResize(Py_ssize_t *word, Py_ssize_t *seen)
{
    Py_ssize_t old = 0;
    if (_Py_BUFLOCK_CAS(word, &old, _Py_BUFLOCK_RESIZING)) {
        return 0;
    }
    *seen = old;
    return -1;
}

/* Leave the resize state; a raw pin taken meanwhile (by C code that does
 * not look at the word) stays counted. */
static inline void
_PyBufLock_EndResize(Py_ssize_t *word)
{
    Py_ssize_t old = _Py_BUFLOCK_RESIZING;
    while (!_Py_BUFLOCK_CAS(word, &old, _Py_BUFLOCK_READS(old))) {
    }
}

static inline const char *
_PyBufLock_ShortName(PyObject *obj)
{
    const char *name = Py_TYPE(obj)->tp_name;
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

/* Raise the BufferConflictError of semantics.md section 6 for a refused
 * request. */
_Py_BUFLOCK_OUT_OF_LINE void
_PyBufLock_RaiseConflict(PyObject *obj, _PyBufLock_Request request,
                         Py_ssize_t seen)
{
    const char *action;
    const char *what;
    int mode = _Py_BUFLOCK_MODE(seen);
    /* The holds of the mode, or the reads in progress in FREE mode. */
    Py_ssize_t count = mode == _Py_BUFLOCK_FREE ? _Py_BUFLOCK_READS(seen)
                                                : _Py_BUFLOCK_HOLDS(seen);

    switch (request) {
    case _Py_BUFLOCK_OWN_READ: action = "read"; break;
    case _Py_BUFLOCK_OWN_WRITE: action = "modify"; break;
    case _Py_BUFLOCK_PLAIN: action = "export a buffer"; break;
    case _Py_BUFLOCK_WRITABLE: action = "export PyBUF_WRITABLE"; break;
    case _Py_BUFLOCK_IMMUTABLE_READ: action = "export PyBUF_IMMUTABLE"; break;
    default: action = "export PyBUF_EXCLUSIVE"; break;
    }
    if (seen == _Py_BUFLOCK_RESIZING) {
        PyErr_Format(_Py_BUFLOCK_CONFLICT_ERROR,
                     "%s: cannot %s while it is being resized",
                     _PyBufLock_ShortName(obj), action);
        return;
    }
    if (mode == _Py_BUFLOCK_EXCLUSIVE) {
        PyErr_Format(_Py_BUFLOCK_CONFLICT_ERROR,
                     "%s: cannot %s while an exclusive export is held",
                     _PyBufLock_ShortName(obj), action);
        return;
    }
    if (_Py_BUFLOCK_HOLDS_FULL(seen) || _Py_BUFLOCK_READS_FULL(seen)) {
        PyErr_Format(_Py_BUFLOCK_CONFLICT_ERROR,
                     "%s: cannot %s: too many exports and reads are held",
                     _PyBufLock_ShortName(obj), action);
        return;
    }
    switch (mode) {
    case _Py_BUFLOCK_SHARED: what = "writable export"; break;
    case _Py_BUFLOCK_IMMUTABLE: what = "immutable export"; break;
    default: what = "read"; break;
    }
    PyErr_Format(_Py_BUFLOCK_CONFLICT_ERROR,
                 "%s: cannot %s while %zd %s%s %s %s",
                 _PyBufLock_ShortName(obj), action, count, what,
                 count == 1 ? "" : "s",
                 count == 1 ? "is" : "are",
                 mode == _Py_BUFLOCK_FREE ? "in progress" : "held");
}

/* Enter the state for an export request whose flags passed
 * _PyBufLock_CheckRequest(); on refusal raise BufferConflictError and
 * return -1, changing nothing.  *readonly tells how the buffer must be
 * granted. */
static inline int
_PyBufLock_Export(PyObject *obj, Py_ssize_t *word, int flags, int *readonly)
{
    _PyBufLock_Request request = _PyBufLock_Classify(flags);
    Py_ssize_t seen;
    if (_PyBufLock_Acquire(word, request, readonly, &seen) < 0) {
        _PyBufLock_RaiseConflict(obj, request, seen);
        return -1;
    }
    return 0;
}

/* The common case of _PyBufLock_Export() in one compare: enter the state
 * for a plain or writable request in FREE or SHARED mode, nearly every
 * export, and return 1 (the buffer is granted writable).  Returns 0,
 * changing nothing, for every other request: an exporter tries this first
 * and keeps _PyBufLock_Export() on a path of its own. */
static inline int
_PyBufLock_TryExportWritable(Py_ssize_t *word, int flags)
{
    if (flags & (PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE)) {
        return 0;
    }
    Py_ssize_t old = _Py_BUFLOCK_LOAD(word);
    return (_Py_BUFLOCK_MAY_ADD_WRITER(old)
            && _Py_BUFLOCK_CAS(word, &old,
                               (old | _Py_BUFLOCK_SHARED_BIT)
                               + _Py_BUFLOCK_ONE_HOLD));
}

/* Raise the BufferError for a request refused before any state is read:
 * bad bits or a contradictory combination.  Returns -1 then, else 0. */
static inline int
_PyBufLock_CheckRequest(int flags)
{
    /* Exactly PyBUF_READ or PyBUF_WRITE is left to the caller and the
       exporter, as before these flags (PyObject_GetBuffer() raises
       SystemError for it since 3.13, gh-114685; __buffer__() passes it
       on). */
    int bad = _PyBufLock_BadFlags(flags);
    if (bad) {
        PyErr_Format(PyExc_BufferError,
                     "unknown buffer request flags 0x%x", (unsigned int)bad);
        return -1;
    }
    if (_PyBufLock_Contradictory(flags)) {
        PyErr_SetString(PyExc_BufferError,
                        "PyBUF_IMMUTABLE and PyBUF_WRITABLE "
                        "cannot be combined");
        return -1;
    }
    return 0;
}

#endif /* Py_INTERNAL_BUFLOCK_H */
