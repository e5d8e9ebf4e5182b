// Operator schemas of the pse_ext library. Kernels register per device in cpu/ and cuda/.
#include <Python.h>
#include <torch/library.h>

// Importing mmpse_ext._C runs the static TORCH_LIBRARY registrations below; the module itself
// exposes nothing.
extern "C" PyMODINIT_FUNC PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module_def);
}

TORCH_LIBRARY(pse_ext, m) {
  // Build-path probe: the number of non-zero elements of a mask. Replaced by the real ops.
  m.def("count_nonzero_probe(Tensor mask) -> int");
}
