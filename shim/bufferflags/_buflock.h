/* Reader/writer state of a locked buffer exporter.
 *
 * This is the state machine of proposal/semantics.md, sections 3 and 4,
 * written once: the bufferflags shim compiles this file, and the CPython
 * patch series carries a byte-identical copy as
 * Include/internal/pycore_buflock.h.
 *
 * The state is one Py_ssize_t word.  The mode lives in the two bits below
 * the sign bit and the count in the bits beneath, so code that only tests
 * "word > 0" or increments and decrements the word around a read (as
 * bytearray's ob_exports users do) keeps working.
 *
 * The includer provides two macros before including this file:
 *   BUFLOCK_LOAD(ptr)                  atomic load of a Py_ssize_t
 *   BUFLOCK_CAS(ptr, expected, desired) atomic compare-and-swap; on failure
 *                                      stores the current value in *expected
 *                                      and evaluates to 0
 */
#ifndef BUFLOCK_H
#define BUFLOCK_H

#ifndef PyBUF_IMMUTABLE
#  define PyBUF_IMMUTABLE 0x0400
#endif
#ifndef PyBUF_EXCLUSIVE
#  define PyBUF_EXCLUSIVE 0x0800
#endif
#define BUFLOCK_KNOWN_FLAGS 0x0FFD

#define BUFLOCK_FREE      0
#define BUFLOCK_SHARED    1
#define BUFLOCK_IMMUTABLE 2
#define BUFLOCK_EXCLUSIVE 3

#define BUFLOCK_MODE_SHIFT (8 * (int)sizeof(Py_ssize_t) - 3)
#define BUFLOCK_COUNT_MASK (((Py_ssize_t)1 << BUFLOCK_MODE_SHIFT) - 1)
#define BUFLOCK_COUNT(word) ((word) & BUFLOCK_COUNT_MASK)
/* A zero count means FREE whatever the mode bits say. */
#define BUFLOCK_MODE(word) \
    (BUFLOCK_COUNT(word) ? (int)(((word) >> BUFLOCK_MODE_SHIFT) & 3) \
                         : BUFLOCK_FREE)
#define BUFLOCK_WORD(mode, count) \
    (((Py_ssize_t)(mode) << BUFLOCK_MODE_SHIFT) | (count))

/* What is asked of the state: an export request (classified from its
 * PyBUF_* flags) or one of the object's own operations. */
typedef enum {
    BUFLOCK_OWN_READ,
    BUFLOCK_OWN_WRITE,
    BUFLOCK_PLAIN,
    BUFLOCK_WRITABLE,
    BUFLOCK_IMMUTABLE_READ,
    BUFLOCK_EXCLUSIVE_READ,
    BUFLOCK_EXCLUSIVE_WRITE,
} _PyBufLock_Request;

/* Flag bits a request may not carry, or 0. */
static inline int
_PyBufLock_BadFlags(int flags)
{
    return flags & ~BUFLOCK_KNOWN_FLAGS;
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
        return (flags & PyBUF_WRITABLE) ? BUFLOCK_EXCLUSIVE_WRITE
                                        : BUFLOCK_EXCLUSIVE_READ;
    }
    if (flags & PyBUF_IMMUTABLE) {
        return BUFLOCK_IMMUTABLE_READ;
    }
    return (flags & PyBUF_WRITABLE) ? BUFLOCK_WRITABLE : BUFLOCK_PLAIN;
}

/* The table of semantics.md sections 3.1 and 3.2 as a pure function.  Returns 0
 * and fills *new_word and *readonly when granted, -1 when refused. */
static inline int
_PyBufLock_Transition(Py_ssize_t word, _PyBufLock_Request request,
                      Py_ssize_t *new_word, int *readonly)
{
    int mode = BUFLOCK_MODE(word);
    Py_ssize_t count = BUFLOCK_COUNT(word);

    *readonly = 1;
    switch (request) {
    case BUFLOCK_OWN_READ:
        if (mode == BUFLOCK_EXCLUSIVE) {
            return -1;
        }
        *new_word = BUFLOCK_WORD(mode, count + 1);
        return 0;
    case BUFLOCK_PLAIN:
        if (mode == BUFLOCK_IMMUTABLE) {
            *new_word = BUFLOCK_WORD(mode, count + 1);
            return 0;
        }
        /* fall through - elsewhere a plain read counts as a writer */
    case BUFLOCK_OWN_WRITE:
    case BUFLOCK_WRITABLE:
        if (mode == BUFLOCK_IMMUTABLE || mode == BUFLOCK_EXCLUSIVE) {
            return -1;
        }
        *readonly = 0;
        *new_word = BUFLOCK_WORD(BUFLOCK_SHARED, count + 1);
        return 0;
    case BUFLOCK_IMMUTABLE_READ:
        if (mode == BUFLOCK_SHARED || mode == BUFLOCK_EXCLUSIVE) {
            return -1;
        }
        *new_word = BUFLOCK_WORD(BUFLOCK_IMMUTABLE, count + 1);
        return 0;
    case BUFLOCK_EXCLUSIVE_READ:
    case BUFLOCK_EXCLUSIVE_WRITE:
        if (count != 0) {
            return -1;
        }
        *readonly = (request == BUFLOCK_EXCLUSIVE_READ);
        *new_word = BUFLOCK_WORD(BUFLOCK_EXCLUSIVE, 1);
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
    Py_ssize_t old = BUFLOCK_LOAD(word);
    Py_ssize_t new_word;
    do {
        if (_PyBufLock_Transition(old, request, &new_word, readonly) < 0) {
            *seen = old;
            return -1;
        }
    } while (!BUFLOCK_CAS(word, &old, new_word));
    return 0;
}

/* Leave the state: the same for every kind of export and operation, which
 * is why a release never needs to know what it releases. */
static inline void
_PyBufLock_Release(Py_ssize_t *word)
{
    Py_ssize_t old = BUFLOCK_LOAD(word);
    Py_ssize_t new_word;
    do {
        new_word = BUFLOCK_COUNT(old) <= 1 ? 0 : old - 1;
    } while (!BUFLOCK_CAS(word, &old, new_word));
}

/* A resize holds the word at BUFLOCK_RESIZING from its check to its last
 * write (moving the tail, reallocating, copying the new bytes in), so that
 * no export and no own operation, from another thread on the free-threaded
 * build, can slip in between.  Mode EXCLUSIVE refuses every request; the
 * full count, which no real holder reaches, names it in error messages. */
#define BUFLOCK_RESIZING BUFLOCK_WORD(BUFLOCK_EXCLUSIVE, BUFLOCK_COUNT_MASK)

/* Enter the resize state, only from FREE with no holder.  On refusal
 * returns -1 and stores the word that refused it in *seen. */
static inline int
_PyBufLock_BeginResize(Py_ssize_t *word, Py_ssize_t *seen)
{
    Py_ssize_t old = 0;
    if (BUFLOCK_CAS(word, &old, BUFLOCK_RESIZING)) {
        return 0;
    }
    *seen = old;
    return -1;
}

static inline void
_PyBufLock_EndResize(Py_ssize_t *word)
{
    Py_ssize_t old = BUFLOCK_RESIZING;
    (void)BUFLOCK_CAS(word, &old, 0);
}

static inline const char *
_PyBufLock_ShortName(PyObject *obj)
{
    const char *name = Py_TYPE(obj)->tp_name;
    const char *dot = strrchr(name, '.');
    return dot ? dot + 1 : name;
}

/* Raise the BufferError of semantics.md section 6 for a refused request. */
static inline void
_PyBufLock_RaiseConflict(PyObject *obj, _PyBufLock_Request request,
                         Py_ssize_t seen)
{
    const char *action;
    const char *what;
    Py_ssize_t count = BUFLOCK_COUNT(seen);
    int mode = BUFLOCK_MODE(seen);

    switch (request) {
    case BUFLOCK_OWN_READ: action = "read"; break;
    case BUFLOCK_OWN_WRITE: action = "modify"; break;
    case BUFLOCK_PLAIN: action = "export a buffer"; break;
    case BUFLOCK_WRITABLE: action = "export PyBUF_WRITABLE"; break;
    case BUFLOCK_IMMUTABLE_READ: action = "export PyBUF_IMMUTABLE"; break;
    default: action = "export PyBUF_EXCLUSIVE"; break;
    }
    if (seen == BUFLOCK_RESIZING) {
        PyErr_Format(PyExc_BufferError,
                     "%s: cannot %s while it is being resized",
                     _PyBufLock_ShortName(obj), action);
        return;
    }
    if (mode == BUFLOCK_EXCLUSIVE) {
        PyErr_Format(PyExc_BufferError,
                     "%s: cannot %s while an exclusive export is held",
                     _PyBufLock_ShortName(obj), action);
        return;
    }
    switch (mode) {
    case BUFLOCK_SHARED: what = "writable export"; break;
    case BUFLOCK_IMMUTABLE: what = "immutable export"; break;
    default: what = "read"; break;
    }
    PyErr_Format(PyExc_BufferError, "%s: cannot %s while %zd %s%s %s %s",
                 _PyBufLock_ShortName(obj), action, count, what,
                 count == 1 ? "" : "s",
                 count == 1 ? "is" : "are",
                 mode == BUFLOCK_FREE ? "in progress" : "held");
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
                        "PyBUF_IMMUTABLE and PyBUF_WRITABLE cannot be combined");
        return -1;
    }
    return 0;
}

#endif /* BUFLOCK_H */
