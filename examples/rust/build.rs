// The cfgs of the interpreter named by PYO3_PYTHON (Py_3_12, Py_GIL_DISABLED,
// ...), used by the module's slots in src/lib.rs.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
