class TestBufferRequestChecks(unittest.TestCase):
    """PyObject_GetBuffer() refuses bad requests before the exporter runs."""

    BF = inspect.BufferFlags
    IMMUTABLE = BF.IMMUTABLE
    EXCLUSIVE = BF.EXCLUSIVE

    def make_exporter(self, flags=0):
        calls = []
        class Exporter:
            __buffer_flags__ = flags
            def __buffer__(self, req):
                calls.append(req)
                return memoryview(bytearray(b'abc'))
        return Exporter(), calls

    def test_unknown_bits(self):
        obj, calls = self.make_exporter()
        for flags in (0x1000, 0x2, 0x1002, 0x10000 | self.BF.FULL_RO):
            with self.subTest(flags=flags):
                with self.assertRaisesRegex(
                        BufferError,
                        r'^unknown buffer request flags 0x[0-9a-f]+$'):
                    memoryview._from_flags(obj, flags)
                for exporter in (b'abc', bytearray(b'abc'),
                                 memoryview(b'abc')):
                    with self.assertRaises(BufferError):
                        exporter.__buffer__(flags)
        with self.assertRaisesRegex(BufferError,
                                    r'^unknown buffer request flags 0x1000$'):
            memoryview._from_flags(obj, 0x1000 | self.BF.FULL_RO)
        self.assertEqual(calls, [])

    def test_read_and_write_alone(self):
        obj, calls = self.make_exporter()
        for flags in (self.BF.READ, self.BF.WRITE):
            with self.assertRaisesRegex(
                    BufferError, rf'^unknown buffer request flags {flags:#x}$'):
                memoryview._from_flags(obj, flags)
        self.assertEqual(calls, [])

    def test_contradictory(self):
        obj, calls = self.make_exporter(self.IMMUTABLE | self.EXCLUSIVE)
        msg = '^PyBUF_IMMUTABLE and PyBUF_WRITABLE cannot be combined$'
        for flags in (self.IMMUTABLE | self.BF.WRITABLE,
                      self.IMMUTABLE | self.EXCLUSIVE | self.BF.WRITABLE,
                      self.IMMUTABLE | self.BF.FULL):
            with self.subTest(flags=flags):
                with self.assertRaisesRegex(BufferError, msg):
                    memoryview._from_flags(obj, flags)
                with self.assertRaisesRegex(BufferError, msg):
                    b'abc'.__buffer__(flags)
        self.assertEqual(calls, [])

    def test_unsupported_flag_refused_before_the_exporter(self):
        obj, calls = self.make_exporter()
        name = type(obj).__name__
        with self.assertRaisesRegex(
                BufferError,
                rf'^{name} does not support PyBUF_IMMUTABLE \(supported: none\)$'):
            memoryview._from_flags(obj, self.IMMUTABLE)
        with self.assertRaisesRegex(
                BufferError,
                rf'^{name} does not support PyBUF_EXCLUSIVE \(supported: none\)$'):
            memoryview._from_flags(obj, self.EXCLUSIVE | self.BF.WRITABLE)
        self.assertEqual(calls, [])

        obj, calls = self.make_exporter(self.IMMUTABLE)
        with self.assertRaisesRegex(
                BufferError,
                r'does not support PyBUF_EXCLUSIVE '
                r'\(supported: PyBUF_IMMUTABLE\)$'):
            memoryview._from_flags(obj, self.EXCLUSIVE)
        self.assertEqual(calls, [])

    def test_supported_flag_reaches_the_exporter(self):
        exporter = bytearray(b'abc')
        class Immutable:
            __buffer_flags__ = self.IMMUTABLE
            def __buffer__(self, flags):
                return exporter.__buffer__(flags)
        # The memoryview __buffer__ returned must itself grant IMMUTABLE
        # (forwarding), so only the flags check is tested here.
        with self.assertRaises(BufferError) as cm:
            memoryview._from_flags(Immutable(), self.EXCLUSIVE)
        self.assertIn('does not support PyBUF_EXCLUSIVE', str(cm.exception))

    def test_old_flags_unchanged(self):
        obj, calls = self.make_exporter()
        for flags in (self.BF.SIMPLE, self.BF.WRITABLE, self.BF.FULL_RO,
                      self.BF.RECORDS_RO, self.BF.CONTIG_RO):
            with memoryview._from_flags(obj, flags) as m:
                self.assertEqual(m.tobytes(), b'abc')
        self.assertEqual(calls, [self.BF.SIMPLE, self.BF.WRITABLE, self.BF.FULL_RO,
                                 self.BF.RECORDS_RO, self.BF.CONTIG_RO])

    @unittest.skipIf(struct is None, 'struct module required')
    def test_argument_parsing_keeps_a_lock_conflict(self):
        # A BufferError from an exporter that supports PyBUF_EXCLUSIVE (a
        # locked exporter) reports a conflict, not a wrong argument type.
        class Locked:
            __buffer_flags__ = self.EXCLUSIVE
            def __buffer__(self, flags):
                raise BufferError('conflict')
        with self.assertRaisesRegex(BufferError, '^conflict$'):
            struct.pack_into('b', Locked(), 0, 1)             # w*
        with self.assertRaisesRegex(BufferError, '^conflict$'):
            io.BytesIO(b'x').readinto(Locked())                # Clinic
        # Other exporters keep today's TypeError.
        with self.assertRaises(TypeError):
            struct.pack_into('b', b'x', 0, 1)
        with self.assertRaises(TypeError):
            io.BytesIO(b'x').readinto(b'y')


