// Operator schemas of the pse_ext library. Kernels register per device in cpu/ and cuda/; the fake
// (meta) kernels live in Python, in mmpse_ext/ops/pse.py.
#include <Python.h>
#include <torch/library.h>
#include <torch/version.h>

// Importing mmpse_ext._C runs the static TORCH_LIBRARY registrations below; the module itself
// exposes nothing.
extern "C" PyMODINIT_FUNC PyInit__C(void) {
  static struct PyModuleDef module_def = {PyModuleDef_HEAD_INIT, "_C", nullptr, -1, nullptr};
  return PyModule_Create(&module_def);
}

TORCH_LIBRARY(pse_ext, m) {
  // Tells torch where the fake kernels are registered, so tracing the op without having imported
  // mmpse_ext.ops gives an actionable error (torch 2.2 and 2.3 also require it of ops whose fake
  // kernel is registered from Python). torch 2.0 and 2.1 have no such declaration and no Python
  // fake kernels for C++ ops (docs/setup.md); 2.2 .. 2.4 call it impl_abstract_pystub, which later
  // torch keeps as a deprecated alias of set_python_module.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 5)
  m.set_python_module("mmpse_ext.ops.pse");
#elif TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 2
  m.impl_abstract_pystub("mmpse_ext.ops.pse");
#endif
  // Progressive scale expansion of PSENet (official FIFO semantics, 4-connectivity).
  //   kernels [K, H, W] bool/uint8 (0 = largest ... K-1 = smallest), score [H, W] float32.
  // Returns the int32 label map [H, W] (instances 1..N in raster order of their seed's first
  // pixel, 0 = background) and per-instance statistics: areas [N] int64, score_sums [N] float64
  // and boxes [N, 4] int32 (x_min, y_min, x_max, y_max, inclusive).
  m.def(
      "progressive_scale_expansion(Tensor kernels, Tensor score, int min_area) -> "
      "(Tensor labels, Tensor areas, Tensor score_sums, Tensor boxes)");
  // The same expansion on the bilinear upsampling (align_corners=False, integer factor `scale`)
  // of low-resolution logits [K, h, w] float32 (0 = text, K-1 = smallest kernel), cropped to the
  // top-left [height, width]: kernel k = (logit k > logit_threshold) and (text logit >
  // logit_threshold), score = sigmoid(text logit). The full-resolution maps are never
  // materialised.
  m.def(
      "progressive_scale_expansion_from_logits(Tensor logits, int scale, int height, int width, "
      "int min_area, float logit_threshold=0.0) -> "
      "(Tensor labels, Tensor areas, Tensor score_sums, Tensor boxes)");
  // The expansion from bit-packed masks, packed [H, W] uint8 with bit k = "in kernel k" for
  // k < num_levels (bit 0 = text map; higher bits are ignored), and score = sigmoid of the
  // bilinear upsampling of the low-resolution text logits [h, w] float32 by `scale`, cropped to
  // [H, W]. The form an accelerator hands over after upsampling and thresholding on the device.
  m.def(
      "progressive_scale_expansion_packed(Tensor packed, int num_levels, Tensor text_logits, "
      "int scale, int min_area) -> (Tensor labels, Tensor areas, Tensor score_sums, "
      "Tensor boxes)");
}
