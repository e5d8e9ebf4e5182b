// CPU kernel of pse_ext::progressive_scale_expansion (kernel masks in, labels out); the algorithm
// and its layout are described in pse_expander.h.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cstdint>
#include <tuple>
#include <vector>

#include "cpu/pse_expander.h"
#include "pse_checks.h"

namespace {

using pse_ext::cpu::Expander;
using pse_ext::cpu::InstanceStats;

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> progressive_scale_expansion_cpu(
    const at::Tensor& kernels, const at::Tensor& score, int64_t min_area) {
  pse_ext::check_pse_inputs(kernels, score, min_area, c10::DeviceType::CPU);
  const int32_t num_levels = static_cast<int32_t>(kernels.size(0));
  const int32_t height = static_cast<int32_t>(kernels.size(1));
  const int32_t width = static_cast<int32_t>(kernels.size(2));
  at::Tensor labels = at::zeros({height, width}, kernels.options().dtype(at::kInt));
  if (height == 0 || width == 0) {
    return {labels, at::empty({0}, kernels.options().dtype(at::kLong)),
            at::empty({0}, score.options().dtype(at::kDouble)),
            at::empty({0, 4}, kernels.options().dtype(at::kInt))};
  }
  // bool and uint8 share the byte layout; any non-zero byte counts as "inside".
  const at::Tensor kernels_bytes = kernels.contiguous();
  const at::Tensor score_contiguous = score.contiguous();
  Expander expander(static_cast<const uint8_t*>(kernels_bytes.data_ptr()),
                    score_contiguous.data_ptr<float>(), num_levels, height, width,
                    labels.data_ptr<int32_t>());
  const std::vector<InstanceStats> stats = expander.run(min_area);

  auto [areas, score_sums, boxes] = pse_ext::cpu::stats_to_tensors(stats, kernels.options());
  return {labels, areas, score_sums, boxes};
}

}  // namespace

TORCH_LIBRARY_IMPL(pse_ext, CPU, m) {
  m.impl("progressive_scale_expansion", &progressive_scale_expansion_cpu);
}
