class MemoryviewExportCountTest(unittest.TestCase):
    """The export counts of a memoryview shared between threads."""

    @threading_helper.requires_working_threading()
    def test_exports_from_threads(self):
        # Each hash exports the shared view and each slice is a new view of
        # its managed buffer: on the free-threaded build, lost updates of
        # the counts released the managed buffer while views still used it.
        import hashlib
        import threading
        m = memoryview(bytes(1 << 12))
        errors = []
        def worker():
            try:
                for _ in range(3000):
                    hashlib.sha256(m).digest()
                    m[:16]
            except Exception as e:
                errors.append(e)
        with threading_helper.start_threads(
                threading.Thread(target=worker) for _ in range(4)):
            pass
        self.assertEqual(errors, [])
        m.release()                 # no export left behind
