class BytesBufferFlagsTest(unittest.TestCase):
    """bytes supports PyBUF_IMMUTABLE and not PyBUF_EXCLUSIVE."""

    BF = inspect.BufferFlags

    def test_declared(self):
        self.assertEqual(bytes.__buffer_flags__, self.BF.IMMUTABLE)
        self.assertEqual(inspect.get_buffer_flags(b''), self.BF.IMMUTABLE)
        class Sub(bytes):
            pass
        self.assertEqual(Sub.__buffer_flags__, self.BF.IMMUTABLE)

    def test_immutable_export(self):
        for flags in (self.BF.IMMUTABLE, self.BF.IMMUTABLE | self.BF.FULL_RO):
            with b'abc'.__buffer__(flags) as m:
                self.assertTrue(m.readonly)
                self.assertEqual(m.tobytes(), b'abc')
        with memoryview._from_flags(b'abc', self.BF.IMMUTABLE) as m:
            self.assertTrue(m.readonly)

    def test_exclusive_refused(self):
        msg = (r'^bytes does not support PyBUF_EXCLUSIVE '
               r'\(supported: PyBUF_IMMUTABLE\)$')
        for flags in (self.BF.EXCLUSIVE, self.BF.EXCLUSIVE | self.BF.IMMUTABLE,
                      self.BF.EXCLUSIVE | self.BF.WRITABLE):
            with self.assertRaisesRegex(BufferError, msg):
                b'abc'.__buffer__(flags)
            with self.assertRaisesRegex(BufferError, msg):
                memoryview._from_flags(b'abc', flags)

    def test_subclass_overriding_buffer(self):
        class Sub(bytes):
            def __buffer__(self, flags):
                return super().__buffer__(flags)
        self.assertEqual(Sub.__buffer_flags__, 0)
        with self.assertRaisesRegex(
                BufferError,
                r'^Sub does not support PyBUF_IMMUTABLE \(supported: none\)$'):
            memoryview._from_flags(Sub(b'x'), self.BF.IMMUTABLE)


