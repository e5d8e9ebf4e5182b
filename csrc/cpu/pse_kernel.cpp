#include <ATen/ATen.h>
#include <torch/library.h>

namespace {

int64_t count_nonzero_probe_cpu(const at::Tensor& mask) {
  TORCH_CHECK(mask.device().is_cpu(), "mask should be a CPU tensor, got ", mask.device());
  return mask.ne(0).sum().item<int64_t>();
}

}  // namespace

TORCH_LIBRARY_IMPL(pse_ext, CPU, m) {
  m.impl("count_nonzero_probe", &count_nonzero_probe_cpu);
}
