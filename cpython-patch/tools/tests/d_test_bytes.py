class ByteArrayBufferFlagsTest(unittest.TestCase):
    """bytearray's reader/writer locking (PyBUF_IMMUTABLE, PyBUF_EXCLUSIVE)."""

    BF = inspect.BufferFlags
    IMMUTABLE = BF.IMMUTABLE
    EXCLUSIVE = BF.EXCLUSIVE

    MODIFY_IMM = r'^bytearray: cannot modify while %d immutable exports? (is|are) held$'
    MODIFY_EXCL = r'^bytearray: cannot modify while an exclusive export is held$'
    READ_EXCL = r'^bytearray: cannot read while an exclusive export is held$'
    RESIZE = r'^Existing exports of data: object cannot be re-sized$'

    def writes(self, b):
        # in-place writes
        yield lambda: b.__setitem__(0, 0x7a)
        yield lambda: b.__setitem__(-1, 0x7a)
        yield lambda: b.__setitem__(slice(0, 2), b'zz')
        yield lambda: b.__setitem__(slice(1, 1), b'')
        yield lambda: b.__setitem__(slice(None, None, 2), b'zz')
        yield lambda: b.reverse()

    def resizes(self, b):
        yield lambda: b.__setitem__(slice(0, 1), b'zz')
        yield lambda: b.__delitem__(0)
        yield lambda: b.__delitem__(slice(None, None, 2))
        yield lambda: b.append(1)
        yield lambda: b.extend(b'x')
        yield lambda: b.extend([])
        yield lambda: b.insert(0, 1)
        yield lambda: b.pop()
        yield lambda: b.remove(ord('a'))
        yield lambda: b.clear()
        yield lambda: b.__iadd__(b'x')
        yield lambda: b.__iadd__(b'')
        yield lambda: b.__imul__(2)
        yield lambda: b.__imul__(1)
        yield lambda: b.__init__(b'xyz')

    def reads(self, b):
        yield lambda: b[0]
        yield lambda: b[-1]
        yield lambda: b[0:2]
        yield lambda: b[::2]
        yield lambda: list(b)
        yield lambda: repr(b)
        yield lambda: str(b)
        yield lambda: b == b'abc'
        yield lambda: b'abc' == b
        yield lambda: b < bytearray(b'abd')
        yield lambda: 97 in b
        yield lambda: b'a' in b
        yield lambda: b + b'x'
        yield lambda: b'x' + b
        yield lambda: b * 2
        yield lambda: b % ()
        yield lambda: b'%s' % (b,)
        yield lambda: b.copy()
        yield lambda: b.__reduce__()
        yield lambda: b.__reduce_ex__(4)
        yield lambda: b.decode()
        yield lambda: b.hex()
        yield lambda: b.find(b'a')
        yield lambda: b.count(b'a')
        yield lambda: b.index(b'b')
        yield lambda: b.rfind(b'a')
        yield lambda: b.rindex(b'b')
        yield lambda: b.startswith(b'a')
        yield lambda: b.endswith(b'c')
        yield lambda: b.split()
        yield lambda: b.split(b'b')
        yield lambda: b.rsplit(b'b')
        yield lambda: b.partition(b'b')
        yield lambda: b.rpartition(b'b')
        yield lambda: b.splitlines()
        yield lambda: b.strip()
        yield lambda: b.lstrip(b'a')
        yield lambda: b.rstrip(b'c')
        yield lambda: b.join([b'1', b'2'])
        yield lambda: b''.join([b])
        yield lambda: b.replace(b'a', b'b')
        yield lambda: b.translate(None)
        yield lambda: b.removeprefix(b'a')
        yield lambda: b.removesuffix(b'c')
        yield lambda: b.upper()
        yield lambda: b.lower()
        yield lambda: b.title()
        yield lambda: b.capitalize()
        yield lambda: b.swapcase()
        yield lambda: b.isalnum()
        yield lambda: b.isascii()
        yield lambda: b.center(9)
        yield lambda: b.ljust(9)
        yield lambda: b.rjust(9)
        yield lambda: b.zfill(9)
        yield lambda: b.expandtabs()
        yield lambda: bytes(b)
        yield lambda: bytearray(3).__setitem__(slice(0, 3), b)
        yield lambda: str(b, 'latin-1')
        yield lambda: pickle.dumps(b, 5)

    def test_declared(self):
        self.assertEqual(bytearray.__buffer_flags__, 0xC00)
        self.assertEqual(inspect.get_buffer_flags(bytearray()),
                         self.IMMUTABLE | self.EXCLUSIVE)
        class Sub(bytearray):
            pass
        class Override(bytearray):
            def __buffer__(self, flags):
                return super().__buffer__(flags)
        self.assertEqual(Sub.__buffer_flags__, 0xC00)
        self.assertEqual(Override.__buffer_flags__, 0)

    def test_plain_exports_unchanged(self):
        b = bytearray(b'abc')
        with memoryview(b) as m:
            self.assertFalse(m.readonly)
            m[0] = ord('x')
            b[1] = ord('y')               # in-place writes stay allowed
            b[0:2] = b'zz'
            b.reverse()
            with self.assertRaisesRegex(BufferError, self.RESIZE):
                b.append(1)
            with self.assertRaisesRegex(
                    BufferError, r'^bytearray: cannot export PyBUF_IMMUTABLE '
                                 r'while 1 writable export is held$'):
                b.__buffer__(self.IMMUTABLE)
        self.assertEqual(b, b'czz')
        b.append(1)

    def test_immutable_refuses_writes(self):
        b = bytearray(b'abc')
        with b.__buffer__(self.IMMUTABLE) as m:
            self.assertTrue(m.readonly)
            for op in self.writes(b):
                with self.assertRaisesRegex(BufferError, self.MODIFY_IMM % 1):
                    op()
            for op in self.resizes(b):
                with self.assertRaisesRegex(BufferError, self.MODIFY_IMM % 1):
                    op()
            with self.assertRaises(TypeError):
                m[0] = 1
            self.assertEqual(b, b'abc')
            self.assertEqual(m.tobytes(), b'abc')
            # reads and len() are allowed
            for op in self.reads(b):
                op()
            self.assertEqual(len(b), 3)
        b[0] = ord('x')
        b.append(ord('d'))
        self.assertEqual(b, b'xbcd')

    def test_immutable_refuses_writable_exports(self):
        b = bytearray(b'abc')
        with b.__buffer__(self.IMMUTABLE), b.__buffer__(self.IMMUTABLE):
            with self.assertRaisesRegex(
                    BufferError, r'^bytearray: cannot export PyBUF_WRITABLE '
                                 r'while 2 immutable exports are held$'):
                b.__buffer__(self.BF.WRITABLE)
            with self.assertRaisesRegex(
                    BufferError, r'^bytearray: cannot export PyBUF_EXCLUSIVE '
                                 r'while 2 immutable exports are held$'):
                b.__buffer__(self.EXCLUSIVE)
            # a plain read is granted read-only
            with memoryview(b) as m:
                self.assertTrue(m.readonly)
        self.assertFalse(memoryview(b).readonly)

    def test_immutable_is_sticky(self):
        b = bytearray(b'abc')
        imm = b.__buffer__(self.IMMUTABLE)
        plain = memoryview(b)
        self.assertTrue(plain.readonly)
        imm.release()
        # the plain read-only export keeps the memory immutable
        with self.assertRaisesRegex(BufferError, self.MODIFY_IMM % 1):
            b[0] = 1
        plain.release()
        b[0] = ord('x')
        self.assertEqual(b, b'xbc')

    def test_exclusive(self):
        for flags in (self.EXCLUSIVE, self.EXCLUSIVE | self.IMMUTABLE,
                      self.EXCLUSIVE | self.BF.WRITABLE):
            b = bytearray(b'abc')
            m = b.__buffer__(flags)
            self.assertEqual(m.readonly, not flags & self.BF.WRITABLE)
            for op in self.reads(b):
                with self.assertRaisesRegex(BufferError, r'^bytearray: cannot '
                                            r'(read|export a buffer) while an '
                                            r'exclusive export is held$'):
                    op()
            for op in list(self.writes(b)) + list(self.resizes(b)):
                with self.assertRaisesRegex(BufferError, self.MODIFY_EXCL):
                    op()
            for req in (0, self.BF.WRITABLE, self.IMMUTABLE, self.EXCLUSIVE):
                with self.assertRaisesRegex(BufferError, 'while an exclusive '
                                            'export is held$'):
                    b.__buffer__(req)
            self.assertEqual(len(b), 3)
            if not m.readonly:
                m[0] = ord('x')
            m.release()
            self.assertEqual(b, b'xbc' if flags & self.BF.WRITABLE else b'abc')
            for op in self.reads(b):
                op()
            b.append(1)

    def test_exclusive_messages(self):
        b = bytearray(b'abc')
        with b.__buffer__(self.EXCLUSIVE):
            with self.assertRaisesRegex(BufferError, self.READ_EXCL):
                b[0]
            with self.assertRaisesRegex(
                    BufferError, r'^bytearray: cannot export a buffer while '
                                 r'an exclusive export is held$'):
                memoryview(b)
            with self.assertRaisesRegex(
                    BufferError, r'^bytearray: cannot export PyBUF_WRITABLE '
                                 r'while an exclusive export is held$'):
                b.__buffer__(self.BF.WRITABLE)

    def test_iteration_checked_at_every_step(self):
        b = bytearray(b'abc')
        it = iter(b)
        self.assertEqual(next(it), ord('a'))
        with b.__buffer__(self.EXCLUSIVE):
            with self.assertRaisesRegex(BufferError, self.READ_EXCL):
                next(it)
        self.assertEqual(list(it), [ord('b'), ord('c')])

    def test_exclusive_refused_during_a_read(self):
        b = bytearray(b'-')
        seen = []
        def items():
            try:
                b.__buffer__(self.EXCLUSIVE)
            except BufferError as e:
                seen.append(str(e))
            yield b'x'
            yield b'y'
        self.assertEqual(b.join(items()), b'x-y')
        self.assertEqual(seen, ['bytearray: cannot export PyBUF_EXCLUSIVE '
                                'while 1 read is in progress'])

    def test_argument_parsing_keeps_the_conflict(self):
        import io, struct
        b = bytearray(b'abcd')
        msg = (r'^bytearray: cannot export PyBUF_WRITABLE while 1 immutable '
               r'export is held$')
        with b.__buffer__(self.IMMUTABLE):
            with self.assertRaisesRegex(BufferError, msg):
                struct.pack_into('b', b, 0, 1)
            with self.assertRaisesRegex(BufferError, msg):
                io.BytesIO(b'xyzw').readinto(b)
        self.assertEqual(b, b'abcd')
        struct.pack_into('b', b, 0, 0x41)
        self.assertEqual(b, b'Abcd')

    def direct_readers(self):
        # Code outside bytearrayobject.c that reads a bytearray's memory
        # directly, without PyObject_GetBuffer(): (name, contents, reader).
        import socket, struct
        yield 'ord', b'A', ord
        yield 'int', b'123', int
        yield 'int-base', b'zz', lambda b: int(b, 36)
        yield 'float', b'1.5', float
        yield 'compile', b'x = 1', lambda b: compile(b, '<bytearray>', 'exec')
        yield 'exec', b'x = 1', exec
        yield 'eval', b'1', eval
        yield '%c', b'A', lambda b: b'%c' % (b,)
        yield 'struct-s', b'abc', lambda b: struct.pack('3s', b)
        yield 'struct-p', b'abc', lambda b: struct.pack('4p', b)
        yield 'gethostbyname', b'127.0.0.1', socket.gethostbyname  # 'et'
        def connect(b):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((b, 9))
        yield 'connect', b'127.0.0.1', connect
        try:
            import ctypes
        except ImportError:
            pass
        else:
            yield 'c_char', b'A', ctypes.c_char
        try:
            import ssl
        except ImportError:
            pass
        else:
            certfile = os.path.join(os.path.dirname(__file__), 'certdata',
                                    'keycert.passwd.pem')
            def load_cert_chain(b):
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.load_cert_chain(certfile, password=b)
            yield 'ssl-password', b'somepass', load_cert_chain
        try:
            import _testcapi
        except ImportError:
            pass
        else:
            yield 'getargs-c', b'A', _testcapi.getargs_c

    def assert_free(self, b):
        # Nothing is held or in progress any more.
        self.assertFalse(memoryview(b).readonly)
        b.__buffer__(self.EXCLUSIVE).release()
        b.append(0)
        b.pop()

    def test_direct_readers_refused_under_exclusive(self):
        for name, data, reader in self.direct_readers():
            for flags in (self.EXCLUSIVE, self.EXCLUSIVE | self.BF.WRITABLE):
                with self.subTest(reader=name, flags=flags):
                    b = bytearray(data)
                    m = b.__buffer__(flags)
                    with self.assertRaisesRegex(BufferError, self.READ_EXCL):
                        reader(b)
                    self.assertEqual(m.tobytes(), data)
                    m.release()
                    self.assertEqual(b, data)
                    self.assert_free(b)
                    reader(b)             # allowed again
                    self.assertEqual(b, data)
                    with b.__buffer__(self.IMMUTABLE):
                        reader(b)         # reads are allowed while immutable
                    self.assert_free(b)

    def test_direct_readers_of_returned_bytearrays(self):
        # A bytearray that Python code returns (or fills) and C code then
        # reads directly: an encoder's result, a read() result of
        # ParseFile(), the buffer of RawIOBase.read().
        import codecs, io, pyexpat
        held = bytearray(b'<a/>')
        def search(name):
            if name == 'test_bytearray_result':
                return codecs.CodecInfo(lambda s, e='strict': (held, len(s)),
                                        None, name=name)
        codecs.register(search)
        self.addCleanup(codecs.unregister, search)

        class File:
            def read(self, n):
                result, self.done = (b'' if self.done else held), True
                return result
        def parse_file():
            f = File()
            f.done = False
            pyexpat.ParserCreate().ParseFile(f)

        class Raw(io.RawIOBase):
            flags = None
            def readable(self):
                return True
            def readinto(self, buf):
                buf[:2] = b'hi'
                self.buf = buf
                if self.flags is not None:   # kept after readinto returns
                    self.exclusive = buf.__buffer__(self.flags)
                return 2

        for flags in (self.EXCLUSIVE, self.EXCLUSIVE | self.BF.WRITABLE):
            with self.subTest(flags=flags):
                with held.__buffer__(flags):
                    with self.assertWarns(RuntimeWarning):
                        with self.assertRaisesRegex(BufferError,
                                                    self.READ_EXCL):
                            'x'.encode('test_bytearray_result')
                    with self.assertRaisesRegex(BufferError, self.READ_EXCL):
                        parse_file()
                self.assertEqual(held, b'<a/>')
                self.assert_free(held)
                with self.assertWarns(RuntimeWarning):
                    self.assertEqual('x'.encode('test_bytearray_result'),
                                     b'<a/>')
                parse_file()
                raw = Raw()
                raw.flags = flags
                with self.assertRaisesRegex(BufferError, self.READ_EXCL):
                    raw.read(2)
                raw.exclusive.release()
                self.assertEqual(raw.buf, b'hi')
                self.assert_free(raw.buf)
                self.assertEqual(Raw().read(2), b'hi')

    def test_refused_requests_leak_nothing(self):
        b = bytearray(b'abc')
        for flags in (0x1000, 0x100, self.IMMUTABLE | self.BF.WRITABLE):
            with self.assertRaises(BufferError):
                b.__buffer__(flags)
        with b.__buffer__(self.IMMUTABLE):
            for flags in (self.BF.WRITABLE, self.EXCLUSIVE):
                with self.assertRaises(BufferError):
                    b.__buffer__(flags)
        b.append(1)                       # nothing is held any more
        with b.__buffer__(self.EXCLUSIVE | self.BF.WRITABLE):
            pass
        self.assertFalse(memoryview(b).readonly)

    def test_a_write_does_not_count_as_an_export(self):
        b = bytearray(b'abc')
        b[0:1] = b'x'
        b[0:1] = b'xy'                    # a resize right after a write
        b.reverse()
        b.append(1)
        self.assertEqual(b, bytearray(b'cbyx\x01'))

    def test_init_is_one_resize(self):
        # __init__ runs the iterable (or codec, __index__, __buffer__)
        # before it touches the object: an export granted meanwhile sees
        # the old contents, and the refused __init__ leaves them as they
        # were.
        b = bytearray(b'abcdefgh')
        held = []
        def items():
            yield 1
            held.append(b.__buffer__(self.IMMUTABLE))
            yield 2
        with self.assertRaisesRegex(BufferError, self.MODIFY_IMM % 1):
            b.__init__(items())
        self.assertEqual(held[0].tobytes(), b'abcdefgh')
        self.assertEqual(b, bytearray(b'abcdefgh'))
        held[0].release()
        b.__init__(x for x in (1, 2))
        self.assertEqual(b, bytearray(b'\x01\x02'))
        m = memoryview(b)                 # SHARED: today's rules
        with self.assertRaisesRegex(BufferError, self.RESIZE):
            b.__init__(b'xy')
        m.release()
        e = bytearray()
        with memoryview(e):
            e.__init__()                  # no resize: allowed, as today
            e.__init__(b'')

    def test_resize_is_one_step_under_threads(self):
        # A resize holds the state from its check to its last write, so a
        # refused resize changes nothing and a granted one is whole.
        import threading
        from test.support import threading_helper
        b = bytearray(b'x' * 64)
        stop = threading.Event()
        errors = []
        def resizer():
            while not stop.is_set():
                try:
                    b.extend(b'yz')
                except BufferError:
                    continue
                while True:
                    try:
                        del b[-2:]
                        break
                    except BufferError:
                        pass
        def exporter():
            for _ in range(2000):
                try:
                    with b.__buffer__(self.IMMUTABLE) as m:
                        if m.tobytes() not in (b'x' * 64, b'x' * 64 + b'yz'):
                            errors.append(m.tobytes())
                except BufferError:
                    pass
        with threading_helper.start_threads([threading.Thread(target=resizer)]):
            try:
                with threading_helper.start_threads(
                        [threading.Thread(target=exporter)]):
                    pass
            finally:
                stop.set()
        self.assertEqual(errors, [])
        self.assertEqual(b, bytearray(b'x' * 64))   # every del happened once

    def test_threads(self):
        # Immutable readers never see the memory change, whatever the
        # writers do (on the free-threaded build, truly in parallel).
        import threading
        from test.support import threading_helper
        b = bytearray(64)
        stop = threading.Event()
        changed = []
        def writer():
            i = 0
            while not stop.is_set():
                i = (i + 1) % 256
                try:
                    b[:] = bytes([i]) * 64        # same-size: in place
                    b[i % 64] = i
                    b.reverse()
                except BufferError:
                    pass
        def reader():
            for _ in range(500):
                try:
                    with b.__buffer__(self.IMMUTABLE) as m:
                        first = m.tobytes()
                        for _ in range(5):
                            if m.tobytes() != first or bytes(b) != first:
                                changed.append(first)
                except BufferError:
                    pass
        writers = [threading.Thread(target=writer) for _ in range(2)]
        readers = [threading.Thread(target=reader) for _ in range(2)]
        with threading_helper.start_threads(writers):
            try:
                with threading_helper.start_threads(readers):
                    pass
            finally:
                stop.set()
        self.assertEqual(changed, [])
        b.append(0)                       # every export was released
        self.assertFalse(memoryview(b).readonly)


