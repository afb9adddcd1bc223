#!/usr/bin/env python3
"""Write cpython-patch/NNNN-*.patch from a development tree.

usage: make_series.py DEVTREE PATCHDIR

DEVTREE is a git checkout of pristine CPython 3.13.5 (tag "pristine") whose
working tree holds the finished change (code, docs, and the tests inserted by
add_tests.py a b c d e f h).  The series is rebuilt commit by commit in a
scratch clone, checked to end in exactly DEVTREE's files, and exported with
git format-patch.
"""
import os, re, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import memoryview_atomic  # noqa: E402
dev, patchdir = map(os.path.abspath, sys.argv[1:3])

def run(*args, cwd=None):
    return subprocess.run(args, cwd=cwd, check=True, text=True,
                          capture_output=True).stdout

work = tempfile.mkdtemp(prefix='bufferflags-series-')
tree = os.path.join(work, 'src')
run('git', 'clone', '-q', dev, tree)
run('git', 'checkout', '-q', 'pristine', cwd=tree)
for k, v in (('user.name', 'bufferflags'),
             ('user.email', 'bufferflags@example.invalid')):
    run('git', 'config', k, v, cwd=tree)

def final(path):
    with open(os.path.join(dev, path)) as f:
        return f.read()

def write(path, text):
    p = os.path.join(tree, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'w') as f:
        f.write(text)

def copy(*paths):
    for p in paths:
        write(p, final(p))

def typeobject(n):
    """typeobject.c with the first n entries of the builtin table."""
    s = final('Objects/typeobject.c')
    entries = ['    {&PyBytes_Type, PyBUF_IMMUTABLE},\n',
               '    {&PyByteArray_Type, PyBUF_IMMUTABLE | PyBUF_EXCLUSIVE},\n',
               '    {&PyMemoryView_Type, PyBUF_IMMUTABLE},\n']
    for e in entries[n:]:
        assert s.count(e) == 1
        s = s.replace(e, '')
    write('Objects/typeobject.c', s)

def bufferflags_h_without_helpers():
    s = final('Include/internal/pycore_bufferflags.h')
    i = s.index('/* Helpers for locked exporters')
    j = s.index('#ifdef __cplusplus\n}', i)
    write('Include/internal/pycore_bufferflags.h', s[:i] + s[j:])

def memoryobject_b():
    s = run('git', 'show', 'pristine:Objects/memoryobject.c', cwd=tree)
    pairs = [
        ('#include "pycore_abstract.h"      // _PyIndex_Check()\n',
         '#include "pycore_abstract.h"      // _PyIndex_Check()\n'
         '#include "pycore_bufferflags.h"   // _PyBuffer_CheckRequest()\n'),
        ('''        CHECK_RELEASED(mv);
        CHECK_RESTRICTED(mv);
        return mbuf_add_view(mv->mbuf, &mv->view);''',
         '''        CHECK_RELEASED(mv);
        CHECK_RESTRICTED(mv);
        /* The new view shares the managed buffer: it can keep only the
           guarantees the managed buffer already has. */
        if (_PyBuffer_NeedsCheck(flags)
            && _PyBuffer_CheckRequest(v, flags) < 0)
        {
            return NULL;
        }
        return mbuf_add_view(mv->mbuf, &mv->view);'''),
        ('''_PyMemoryView_FromBufferProc(PyObject *v, int flags, getbufferproc bufferproc)
{
    _PyManagedBufferObject *mbuf = mbuf_alloc();''',
         '''_PyMemoryView_FromBufferProc(PyObject *v, int flags, getbufferproc bufferproc)
{
    /* obj.__buffer__(flags) calls the exporter directly: check the request
       as PyObject_GetBuffer() does. */
    if (_PyBuffer_NeedsCheck(flags) && _PyBuffer_CheckRequest(v, flags) < 0) {
        return NULL;
    }
    _PyManagedBufferObject *mbuf = mbuf_alloc();'''),
    ]
    for old, new in pairs:
        assert s.count(old) == 1, old
        s = s.replace(old, new)
    write('Objects/memoryobject.c', s)

# Step d refuses direct reads of a bytearray under an exclusive export in
# files that step b already changes: step b writes them without those checks.
BYTEARRAY_READ_CHECKS = {
    'Objects/abstract.c': [
        ('''    if (PyByteArray_Check(o)) {
        if (_PyByteArray_CheckRead(o) < 0) {
            return NULL;
        }
        return _PyLong_FromBytes(PyByteArray_AS_STRING(o),
                                 PyByteArray_GET_SIZE(o), 10);
    }
''', '''    if (PyByteArray_Check(o))
        return _PyLong_FromBytes(PyByteArray_AS_STRING(o),
                                 PyByteArray_GET_SIZE(o), 10);
'''),
    ],
    'Python/getargs.c': [
        ('''        else if (PyByteArray_Check(arg) && PyByteArray_Size(arg) == 1) {
            if (_PyByteArray_CheckRead(arg) < 0) {
                RETURN_ERR_OCCURRED;
            }
            *p = PyByteArray_AS_STRING(arg)[0];
        }
''', '''        else if (PyByteArray_Check(arg) && PyByteArray_Size(arg) == 1)
            *p = PyByteArray_AS_STRING(arg)[0];
'''),
        ('''            if (PyByteArray_Check(arg) && _PyByteArray_CheckRead(arg) < 0) {
                RETURN_ERR_OCCURRED;
            }
''', ''),
    ],
}

def without_bytearray_read_checks(*paths):
    for path in paths:
        s = final(path)
        for checked, unchecked in BYTEARRAY_READ_CHECKS[path]:
            assert s.count(checked) == 1, (path, checked)
            s = s.replace(checked, unchecked)
        write(path, s)

def tests(step):
    run(sys.executable, os.path.join(HERE, 'add_tests.py'), tree, step)

NEWS = {
    'a': 'C_API', 'b': 'C_API', 'c': 'Core_and_Builtins',
    'd': 'Core_and_Builtins', 'e': 'Core_and_Builtins', 'f': 'Library',
    'h': 'Core_and_Builtins',
}

def commit(step, minute):
    if step in NEWS:
        name = ('Misc/NEWS.d/next/%s/2026-11-23-10-%02d-00.gh-issue-00000.'
                'bflag%s.rst' % (NEWS[step], minute, step))
        with open(os.path.join(HERE, 'news', step + '.rst')) as f:
            write(name, f.read())
    run('git', 'add', '-A', '.', cwd=tree)
    run('git', 'commit', '-q', '-F', os.path.join(HERE, 'messages', step + '.txt'),
        '--date', '2026-11-23T10:%02d:00Z' % minute, cwd=tree)

GENERATED = ['Include/internal/pycore_global_objects_fini_generated.h',
             'Include/internal/pycore_global_strings.h',
             'Include/internal/pycore_runtime_init_generated.h',
             'Include/internal/pycore_unicodeobject_generated.h']

# a. flags and the declaration
copy('Include/pybuffer.h', 'Include/cpython/object.h', 'Lib/inspect.py',
     *GENERATED)
typeobject(0)
tests('a')
commit('a', 1)
# b. PyObject_GetBuffer fails closed
copy('Include/internal/pycore_buflock.h', 'Makefile.pre.in')
without_bytearray_read_checks('Objects/abstract.c', 'Python/getargs.c')
bufferflags_h_without_helpers()
memoryobject_b()
tests('b')
commit('b', 2)
# c. bytes
typeobject(1)
tests('c')
commit('c', 3)
# d. bytearray
copy('Include/internal/pycore_bufferflags.h', 'Objects/bytearrayobject.c',
     'Objects/bytesobject.c', 'Objects/stringlib/join.h',
     'Objects/unicodeobject.c', 'Modules/_pickle.c',
     # direct reads of a bytearray, refused under an exclusive export
     'Objects/abstract.c', 'Objects/floatobject.c', 'Objects/longobject.c',
     'Python/bltinmodule.c', 'Python/getargs.c', 'Python/pythonrun.c',
     'Modules/_ctypes/cfield.c', 'Modules/_io/iobase.c', 'Modules/_ssl.c',
     'Modules/_struct.c', 'Modules/pyexpat.c', 'Modules/socketmodule.c')
typeobject(2)
tests('d')
commit('d', 4)
# e. memoryview
copy('Include/cpython/memoryobject.h')
write('Objects/memoryobject.c',
      memoryview_atomic.revert(final('Objects/memoryobject.c')))
typeobject(3)
tests('e')
commit('e', 5)
# f. array
copy('Modules/arraymodule.c')
tests('f')
commit('f', 6)
# h. memoryview export counts on the free-threaded build
copy('Objects/memoryobject.c')
tests('h')
commit('h', 7)
# g. docs
copy('Doc/c-api/buffer.rst', 'Doc/library/inspect.rst',
     'Doc/library/stdtypes.rst')
commit('g', 8)

# The series must end in exactly the development tree.
changed = run('git', 'diff', '--name-only', 'pristine', cwd=dev).split()
changed += run('git', 'ls-files', '--others', '--exclude-standard',
               cwd=dev).split()
series = run('git', 'diff', '--name-only', 'pristine', 'HEAD', cwd=tree).split()
missing = sorted(set(changed) - set(p for p in series))
assert not missing, missing
for p in changed:
    if final(p) != open(os.path.join(tree, p)).read():
        raise SystemExit('series differs from the development tree: ' + p)

for old in os.listdir(patchdir):
    if re.match(r'\d{4}-.*\.patch$', old):
        os.remove(os.path.join(patchdir, old))
print(run('git', 'format-patch', '-q', '--no-signature', '-o', patchdir,
          'pristine..HEAD', cwd=tree), end='')
print(run('git', 'diff', '--stat', 'pristine', 'HEAD', cwd=tree), end='')
shutil.rmtree(work)
