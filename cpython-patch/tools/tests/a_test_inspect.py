class TestBufferFlags(unittest.TestCase):
    """inspect.BufferFlags.IMMUTABLE/EXCLUSIVE and the supported flags."""

    IMMUTABLE = inspect.BufferFlags.IMMUTABLE
    EXCLUSIVE = inspect.BufferFlags.EXCLUSIVE

    def make_exporter(self, flags):
        class Exporter:
            __buffer_flags__ = flags
            def __buffer__(self, flags):
                return memoryview(b'abc')
        return Exporter

    def test_flag_values(self):
        self.assertEqual(inspect.BufferFlags.IMMUTABLE, 0x400)
        self.assertEqual(inspect.BufferFlags.EXCLUSIVE, 0x800)

    def test_declared_by_class(self):
        A = self.make_exporter(self.IMMUTABLE)
        self.assertEqual(A.__buffer_flags__, 0x400)
        self.assertIs(type(A.__buffer_flags__), int)
        self.assertEqual(inspect.get_buffer_flags(A), self.IMMUTABLE)
        self.assertEqual(inspect.get_buffer_flags(A()), self.IMMUTABLE)
        self.assertIsInstance(inspect.get_buffer_flags(A),
                              inspect.BufferFlags)

    def test_inherited_only_with_the_same_hooks(self):
        A = self.make_exporter(self.IMMUTABLE | self.EXCLUSIVE)
        class Same(A):
            pass
        class Buffer(A):
            def __buffer__(self, flags):
                return memoryview(b'xyz')
        class Release(A):
            def __release_buffer__(self, view):
                pass
        class Below(Buffer):
            pass
        self.assertEqual(Same.__buffer_flags__, 0xC00)
        self.assertEqual(Buffer.__buffer_flags__, 0)
        self.assertEqual(Release.__buffer_flags__, 0)
        self.assertEqual(Below.__buffer_flags__, 0)
        # a subclass that overrides __buffer__ may declare its own flags
        class Declared(Buffer):
            __buffer_flags__ = self.IMMUTABLE
        self.assertEqual(Declared.__buffer_flags__, self.IMMUTABLE)

    def test_no_declaration(self):
        self.assertEqual(object.__buffer_flags__, 0)
        self.assertEqual(type.__buffer_flags__, 0)
        self.assertEqual(inspect.get_buffer_flags(1), 0)
        self.assertEqual(inspect.get_buffer_flags(int), 0)
        class Bad:
            __buffer_flags__ = "IMMUTABLE"
        self.assertEqual(Bad.__buffer_flags__, 0)

    def test_set_on_heap_type(self):
        A = self.make_exporter(0)
        self.assertEqual(A.__buffer_flags__, 0)
        A.__buffer_flags__ = self.IMMUTABLE
        self.assertEqual(A.__dict__['__buffer_flags__'], 0x400)
        self.assertEqual(A.__buffer_flags__, 0x400)
        with self.assertRaises(ValueError):
            A.__buffer_flags__ = 0x1
        with self.assertRaises(TypeError):
            A.__buffer_flags__ = "x"
        self.assertEqual(A.__buffer_flags__, 0x400)

    def test_delete_on_heap_type(self):
        # del removes the class's own declaration, as for any class
        # attribute; the class then has what its bases declare.
        A = self.make_exporter(self.IMMUTABLE | self.EXCLUSIVE)
        class B(A):
            __buffer_flags__ = self.IMMUTABLE
        del B.__buffer_flags__
        self.assertNotIn('__buffer_flags__', B.__dict__)
        self.assertEqual(B.__buffer_flags__, 0xC00)
        self.assertEqual(inspect.get_buffer_flags(B()),
                         self.IMMUTABLE | self.EXCLUSIVE)
        del A.__buffer_flags__
        self.assertNotIn('__buffer_flags__', A.__dict__)
        self.assertEqual(A.__buffer_flags__, 0)
        self.assertEqual(B.__buffer_flags__, 0)
        # nothing of its own to delete
        with self.assertRaisesRegex(AttributeError, '__buffer_flags__'):
            del A.__buffer_flags__
        with self.assertRaisesRegex(AttributeError, '__buffer_flags__'):
            del B.__buffer_flags__
        # a declaration that is not an int is removed too
        class Bad:
            __buffer_flags__ = "IMMUTABLE"
        del Bad.__buffer_flags__
        self.assertNotIn('__buffer_flags__', Bad.__dict__)
        A.__buffer_flags__ = self.IMMUTABLE
        self.assertEqual(A.__buffer_flags__, 0x400)

    def test_set_on_static_type(self):
        with self.assertRaises(TypeError):
            int.__buffer_flags__ = 0x400
        self.assertEqual(int.__buffer_flags__, 0)
        with self.assertRaises(TypeError):
            del int.__buffer_flags__
        declared = bytes.__buffer_flags__
        with self.assertRaises(TypeError):
            del bytes.__buffer_flags__
        self.assertEqual(bytes.__buffer_flags__, declared)


