# Insert the test snippets of tools/tests/ into a CPython tree (used to write
# the series).  usage: add_tests.py SRCDIR STEP...   (STEP: a b c d e f h)
import os, sys
here = os.path.dirname(os.path.abspath(__file__))
src = sys.argv[1]
targets = {
    'a': ('Lib/test/test_inspect/test_inspect.py', 'a_test_inspect.py'),
    'b': ('Lib/test/test_buffer.py', 'b_test_buffer.py'),
    'c': ('Lib/test/test_bytes.py', 'c_test_bytes.py'),
    'd': ('Lib/test/test_bytes.py', 'd_test_bytes.py'),
    'e': ('Lib/test/test_memoryview.py', 'e_test_memoryview.py'),
    'f': ('Lib/test/test_array.py', 'f_test_array.py'),
    'h': ('Lib/test/test_memoryview.py', 'h_test_memoryview.py'),
}
imports = {
    'c': ('import array\n', 'import array\nimport inspect\n'),
    'e': ('import array\n', 'import array\nimport inspect\n'),
    'f': ('import array\n', 'import array\nimport inspect\n'),
}
for step in sys.argv[2:]:
    path, snippet = targets[step]
    p = os.path.join(src, path)
    s = open(p).read()
    code = open(os.path.join(here, 'tests', snippet)).read()
    marker = '\nif __name__ == "__main__":'
    assert s.count(marker) == 1, path
    s = s.replace(marker, '\n' + code.rstrip('\n') + '\n\n' + marker)
    if step == 'h':
        old_import = 'import test.support\n'
        assert s.count(old_import) == 1
        s = s.replace(old_import, old_import
                      + 'from test.support import threading_helper\n')
    if step in imports and 'import inspect\n' not in s:
        old, new = imports[step]
        assert old in s
        s = s.replace(old, new, 1)
    if step == 'b':
        old1 = '''        obj = bytearray(b'abc')
        with self.assertRaises(SystemError):
            obj.__buffer__(inspect.BufferFlags.READ)
        with self.assertRaises(SystemError):
            obj.__buffer__(inspect.BufferFlags.WRITE)'''
        new1 = '''        # PyBUF_READ and PyBUF_WRITE alone are refused by
        # PyObject_GetBuffer() with BufferError, before the exporter runs.
        obj = bytearray(b'abc')
        with self.assertRaises(BufferError):
            obj.__buffer__(inspect.BufferFlags.READ)
        with self.assertRaises(BufferError):
            obj.__buffer__(inspect.BufferFlags.WRITE)'''
        old2 = '''        buf = _testcapi.testBuf()
        self.assertRaises(SystemError, buf.__buffer__, PyBUF_READ)
        self.assertRaises(SystemError, buf.__buffer__, PyBUF_WRITE)'''
        new2 = '''        buf = _testcapi.testBuf()
        self.assertRaises(BufferError, buf.__buffer__, PyBUF_READ)
        self.assertRaises(BufferError, buf.__buffer__, PyBUF_WRITE)'''
        assert old1 in s and old2 in s
        s = s.replace(old1, new1).replace(old2, new2)
    if step == 'd':
        # __init__ now collects the iterable before it changes the object
        old1 = '''        b = bytearray()
        def g():
            for i in range(1, 100):
                yield i
                a = list(b)
                self.assertEqual(a, list(range(1, len(a)+1)))
                self.assertEqual(len(b), len(a))
                self.assertLessEqual(len(b), i)
                alloc = b.__alloc__()
                self.assertGreater(alloc, len(b))  # including trailing null byte
        b.__init__(g())'''
        new1 = '''        b = bytearray(b'old')
        def g():
            for i in range(1, 100):
                yield i
                # the items are collected first and the contents replaced
                # in one resize: the old contents stay until then
                self.assertEqual(b, bytearray(b'old'))
        b.__init__(g())'''
        assert s.count(old1) == 1
        s = s.replace(old1, new1)
    open(p, 'w').write(s)
