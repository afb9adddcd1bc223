class MemoryviewBufferFlagsTest(unittest.TestCase):
    """A memoryview forwards PyBUF_IMMUTABLE, never PyBUF_EXCLUSIVE."""

    BF = inspect.BufferFlags
    IMMUTABLE = BF.IMMUTABLE
    NOT_IMMUTABLE = (r'^memoryview: cannot export PyBUF_IMMUTABLE: '
                     r'the underlying export is not immutable$')

    def test_declared(self):
        self.assertEqual(memoryview.__buffer_flags__, self.IMMUTABLE)

    def test_plain_export_does_not_forward(self):
        for obj in (b'abc', bytearray(b'abc'), array.array('b', b'abc')):
            m = memoryview(obj)
            self.assertEqual(inspect.get_buffer_flags(m), 0)
            for view in (m, m[1:], m.cast('c'), m.toreadonly()):
                with self.assertRaisesRegex(BufferError, self.NOT_IMMUTABLE):
                    view.__buffer__(self.IMMUTABLE)
                with self.assertRaisesRegex(BufferError, self.NOT_IMMUTABLE):
                    memoryview._from_flags(view, self.IMMUTABLE)

    def test_immutable_export_forwards(self):
        for obj in (b'abc', bytearray(b'abc')):
            m = obj.__buffer__(self.IMMUTABLE)
            self.assertTrue(m.readonly)
            self.assertEqual(inspect.get_buffer_flags(m), self.IMMUTABLE)
            for view in (m, m[1:], m[::2], m.cast('c'), m.toreadonly(),
                         memoryview(m)):
                self.assertTrue(view.readonly)
                with view.__buffer__(self.IMMUTABLE | self.BF.FULL_RO) as v:
                    self.assertTrue(v.readonly)
                    self.assertEqual(inspect.get_buffer_flags(v),
                                     self.IMMUTABLE)
            with memoryview._from_flags(obj, self.IMMUTABLE) as v:
                self.assertTrue(v.readonly)
                self.assertEqual(inspect.get_buffer_flags(v), self.IMMUTABLE)

    def test_exclusive_read_forwards_immutable(self):
        b = bytearray(b'abc')
        with b.__buffer__(self.BF.EXCLUSIVE) as m:
            self.assertTrue(m.readonly)
            with m.__buffer__(self.IMMUTABLE) as v:
                self.assertEqual(v.tobytes(), b'abc')
        with b.__buffer__(self.BF.EXCLUSIVE | self.BF.WRITABLE) as m:
            self.assertFalse(m.readonly)
            with self.assertRaisesRegex(BufferError, self.NOT_IMMUTABLE):
                m.__buffer__(self.IMMUTABLE)

    def test_never_reexports_exclusive(self):
        b = bytearray(b'abc')
        with b.__buffer__(self.BF.EXCLUSIVE) as m:
            for flags in (self.BF.EXCLUSIVE,
                          self.BF.EXCLUSIVE | self.BF.WRITABLE):
                with self.assertRaisesRegex(
                        BufferError,
                        r'^memoryview does not support PyBUF_EXCLUSIVE '
                        r'\(supported: PyBUF_IMMUTABLE\)$'):
                    m.__buffer__(flags)

    def test_python_exporter_forwarding(self):
        # A class may declare IMMUTABLE and return a memoryview from
        # __buffer__: the memoryview decides whether it is granted.
        data = bytearray(b'abc')
        class Good:
            __buffer_flags__ = self.IMMUTABLE
            def __buffer__(self, flags):
                return data.__buffer__(flags)
        class Bad:
            __buffer_flags__ = self.IMMUTABLE
            def __buffer__(self, flags):
                return memoryview(data)
        with memoryview._from_flags(Good(), self.IMMUTABLE) as m:
            self.assertTrue(m.readonly)
            with self.assertRaises(BufferError):
                data[0] = 1
        with self.assertRaisesRegex(BufferError, self.NOT_IMMUTABLE):
            memoryview._from_flags(Bad(), self.IMMUTABLE)
        data[0] = ord('x')
        self.assertEqual(data, b'xbc')


