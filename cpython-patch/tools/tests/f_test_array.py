class ArrayBufferFlagsTest(unittest.TestCase):
    """array.array's reader/writer locking, as bytearray's."""

    BF = inspect.BufferFlags
    MODIFY_IMM = r'^array: cannot modify while 1 immutable export is held$'
    MODIFY_EXCL = r'^array: cannot modify while an exclusive export is held$'

    def writes(self, a):
        yield lambda: a.__setitem__(0, 9)
        yield lambda: a.__setitem__(slice(0, 2), array.array('i', [8, 9]))
        yield lambda: a.__setitem__(slice(None, None, 2),
                                    array.array('i', [8, 9]))
        yield lambda: a.reverse()
        yield lambda: a.byteswap()

    def resizes(self, a):
        yield lambda: a.append(4)
        yield lambda: a.extend([4])
        yield lambda: a.extend([])
        yield lambda: a.insert(0, 4)
        yield lambda: a.pop()
        yield lambda: a.remove(1)
        yield lambda: a.clear()
        yield lambda: a.__delitem__(0)
        yield lambda: a.__iadd__(array.array('i', [4]))
        yield lambda: a.__imul__(1)
        yield lambda: a.frombytes(b'')
        yield lambda: a.fromlist([4])

    def reads(self, a):
        yield lambda: a[0]
        yield lambda: a[0:2]
        yield lambda: a[::2]
        yield lambda: list(a)
        yield lambda: repr(a)
        yield lambda: a == array.array('i', [1, 2, 3])
        yield lambda: 1 in a
        yield lambda: a + a
        yield lambda: a * 2
        yield lambda: a.count(1)
        yield lambda: a.index(1)
        yield lambda: a.tolist()
        yield lambda: a.tobytes()
        yield lambda: a.__copy__()
        yield lambda: a.__reduce_ex__(4)
        yield lambda: bytes(a)

    def test_declared(self):
        self.assertEqual(array.array.__buffer_flags__, 0xC00)
        self.assertEqual(ArraySubclass.__buffer_flags__, 0xC00)
        self.assertEqual(inspect.get_buffer_flags(array.array('b')),
                         self.BF.IMMUTABLE | self.BF.EXCLUSIVE)
        with self.assertRaises(TypeError):
            array.array.__buffer_flags__ = 0

    def test_immutable(self):
        a = array.array('i', [1, 2, 3])
        with a.__buffer__(self.BF.IMMUTABLE | self.BF.FULL_RO) as m:
            self.assertTrue(m.readonly)
            self.assertEqual(m.format, 'i')
            for op in list(self.writes(a)) + list(self.resizes(a)):
                with self.assertRaisesRegex(BufferError, self.MODIFY_IMM):
                    op()
            with self.assertRaisesRegex(
                    BufferError, r'^array: cannot export PyBUF_WRITABLE '
                                 r'while 1 immutable export is held$'):
                memoryview._from_flags(a, self.BF.WRITABLE)
            with memoryview(a) as plain:
                self.assertTrue(plain.readonly)
            for op in self.reads(a):
                op()
            self.assertEqual(a.tolist(), [1, 2, 3])
        a[0] = 5
        a.append(4)
        self.assertEqual(a.tolist(), [5, 2, 3, 4])

    def test_exclusive(self):
        a = array.array('i', [1, 2, 3])
        m = a.__buffer__(self.BF.EXCLUSIVE | self.BF.WRITABLE | self.BF.FORMAT
                         | self.BF.ND)
        self.assertFalse(m.readonly)
        for op in self.reads(a):
            with self.assertRaisesRegex(BufferError, r'^array: cannot '
                                        r'(read|export a buffer) while an '
                                        r'exclusive export is held$'):
                op()
        for op in list(self.writes(a)) + list(self.resizes(a)):
            with self.assertRaisesRegex(BufferError, self.MODIFY_EXCL):
                op()
        self.assertEqual(len(a), 3)
        m[0] = 42
        m.release()
        self.assertEqual(a.tolist(), [42, 2, 3])

    def test_plain_exports_unchanged(self):
        a = array.array('i', [1, 2, 3])
        with memoryview(a) as m:
            self.assertFalse(m.readonly)
            a[0] = 7
            with self.assertRaisesRegex(
                    BufferError,
                    '^cannot resize an array that is exporting buffers$'):
                a.append(4)
        a.append(4)
        self.assertEqual(a.tolist(), [7, 2, 3, 4])



    def test_extend_is_one_resize(self):
        # extend(iterable) collects the items before it touches the array:
        # an export granted meanwhile sees the old contents, and the
        # refused extend leaves them as they were.
        a = array.array('B', b'abc')
        held = []
        def items():
            yield 1
            held.append(a.__buffer__(self.BF.IMMUTABLE))
            yield 2
        with self.assertRaisesRegex(BufferError, self.MODIFY_IMM):
            a.extend(items())
        self.assertEqual(held[0].tobytes(), b'abc')
        self.assertEqual(a.tobytes(), b'abc')
        held[0].release()
        a.extend(x for x in (1, 2))
        self.assertEqual(a.tobytes(), b'abc\x01\x02')
        with memoryview(a):
            a.extend([])                  # no resize: allowed, as today
            a.extend(array.array('B'))
