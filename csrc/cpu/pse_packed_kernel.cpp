// CPU kernel of pse_ext::progressive_scale_expansion_packed: the expansion from bit-packed kernel
// masks (bit k of each byte = "in kernel k"), the form in which an accelerator hands its
// thresholded masks to the host in one byte per pixel. The bits map straight onto the Expander's
// packed grid (pse_expander.h), so no unpacked [K, H, W] stack is built when K - 1 levels fit one
// block; score sums come from the low-resolution text logits (text_score_sums.h), so no score map
// crosses either.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cstdint>
#include <cstring>
#include <tuple>
#include <vector>

#include "cpu/bilinear_rows.h"
#include "cpu/pse_expander.h"
#include "cpu/text_score_sums.h"
#include "pse_checks.h"

namespace {

using pse_ext::cpu::Expander;
using pse_ext::cpu::InstanceStats;
using pse_ext::cpu::RowUpsampler;

// Buffers reused across calls on a thread (see Workspace in pse_expander.h for why).
thread_local std::vector<uint8_t> packed_masks_workspace;

// Bits 0 .. K-2 into the Expander's padded grid, bit K-1 (the smallest kernel) into `seeds`.
void split_into_grid_and_seeds(const uint8_t* packed, int32_t num_levels, int32_t height,
                               int32_t width, uint8_t* bits, int64_t stride, uint8_t* seeds) {
  const uint8_t level_bits = static_cast<uint8_t>((1u << (num_levels - 1)) - 1);
  const int seed_shift = num_levels - 1;
  std::memset(bits, 0, stride);
  std::memset(bits + (static_cast<int64_t>(height) + 1) * stride, 0, stride);
  for (int32_t y = 0; y < height; ++y) {
    const uint8_t* __restrict in = packed + static_cast<int64_t>(y) * width;
    uint8_t* __restrict bit_row = bits + (static_cast<int64_t>(y) + 1) * stride + 1;
    uint8_t* __restrict seed_row = seeds + static_cast<int64_t>(y) * width;
    bit_row[-1] = 0;
    bit_row[width] = 0;
    for (int32_t x = 0; x < width; ++x) {
      bit_row[x] = in[x] & level_bits;
      seed_row[x] = (in[x] >> seed_shift) & 1u;
    }
  }
}

// All K levels as planes [K, H, W], for the Expander's general path (K - 1 > one block).
void unpack_into_planes(const uint8_t* packed, int32_t num_levels, int64_t plane_size,
                        uint8_t* planes) {
  for (int32_t level = 0; level < num_levels; ++level) {
    uint8_t* __restrict out = planes + level * plane_size;
    for (int64_t i = 0; i < plane_size; ++i) out[i] = (packed[i] >> level) & 1u;
  }
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> progressive_scale_expansion_packed_cpu(
    const at::Tensor& packed, int64_t num_levels, const at::Tensor& text_logits, int64_t scale,
    int64_t min_area) {
  pse_ext::check_pse_packed_inputs(packed, num_levels, text_logits, scale, min_area,
                                   c10::DeviceType::CPU);
  const at::TensorOptions options = packed.options();
  const int32_t height = static_cast<int32_t>(packed.size(0));
  const int32_t width = static_cast<int32_t>(packed.size(1));
  at::Tensor labels = at::zeros({height, width}, options.dtype(at::kInt));
  if (height == 0 || width == 0) {
    return {labels, at::empty({0}, options.dtype(at::kLong)),
            at::empty({0}, options.dtype(at::kDouble)),
            at::empty({0, 4}, options.dtype(at::kInt))};
  }
  const at::Tensor packed_contiguous = packed.contiguous();
  const uint8_t* packed_data = packed_contiguous.data_ptr<uint8_t>();
  const int32_t levels = static_cast<int32_t>(num_levels);
  const int64_t plane_size = static_cast<int64_t>(height) * width;
  int32_t* label_data = labels.data_ptr<int32_t>();
  std::vector<uint8_t>& masks = packed_masks_workspace;

  std::vector<InstanceStats> stats;
  if (levels - 1 <= pse_ext::cpu::kLevelsPerBlock) {
    if (static_cast<int64_t>(masks.size()) < plane_size) masks.resize(plane_size);
    Expander expander(masks.data(), levels, height, width, label_data);
    split_into_grid_and_seeds(packed_data, levels, height, width, expander.packed_bits(),
                              expander.packed_stride(), masks.data());
    stats = expander.run(min_area);
  } else {
    if (static_cast<int64_t>(masks.size()) < levels * plane_size) {
      masks.resize(levels * plane_size);
    }
    unpack_into_planes(packed_data, levels, plane_size, masks.data());
    Expander expander(masks.data(), /*score=*/nullptr, levels, height, width, label_data);
    stats = expander.run(min_area);
  }

  const at::Tensor text = text_logits.contiguous();
  RowUpsampler upsampler(text.data_ptr<float>(), /*channels=*/1,
                         static_cast<int32_t>(text.size(0)), static_cast<int32_t>(text.size(1)),
                         static_cast<int32_t>(scale), height, width);
  pse_ext::cpu::add_text_score_sums(upsampler, /*text_channel=*/0, label_data, width, stats);
  auto [areas, score_sums, boxes] = pse_ext::cpu::stats_to_tensors(stats, options);
  return {labels, areas, score_sums, boxes};
}

}  // namespace

TORCH_LIBRARY_IMPL(pse_ext, CPU, m) {
  m.impl("progressive_scale_expansion_packed", &progressive_scale_expansion_packed_cpu);
}
