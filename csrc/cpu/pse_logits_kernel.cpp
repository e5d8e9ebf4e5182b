// CPU kernel of pse_ext::progressive_scale_expansion_from_logits: PSENet's post-processing from
// the low-resolution logits, without materialising the full-resolution maps.
//
// Row by row, each channel is upsampled bilinearly (align_corners=False, integer factor) with the
// taps and the evaluation order of torch's CPU upsample_bilinear2d: every source row is first
// interpolated along x (cached, since 2 * scale output rows share it), then two such rows are
// blended along y. The thresholded row goes straight into the Expander's packed bit grid (bit k =
// "logit k > 0 and text logit > 0"), and the smallest kernel into the seed plane; rows without
// text skip the kernel channels. "Inside" means logit > logit_threshold, the logit of the
// caller's probability threshold (0 for 0.5). After the expansion, the score sums are recomputed
// from the text logits at the labelled pixels (text_score_sums.h), so the score map is never
// stored either.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
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
struct LogitsWorkspace {
  std::vector<uint8_t> masks;  // seed plane [H, W], or all K planes when they do not fit a block
  std::vector<float> text;     // one row
  std::vector<float> values;   // one row
};

thread_local LogitsWorkspace logits_workspace;

// Column chunk whose kernel channels are skipped when it holds no text pixel.
constexpr int32_t kChunk = 64;

// dst[x] |= bit where value > threshold and the pixel is text (bit 0 of dst).
void or_kernel_bit(uint8_t* __restrict dst, const float* __restrict values, float threshold,
                   int bit, int32_t count) {
  for (int32_t x = 0; x < count; ++x) {
    dst[x] |= static_cast<uint8_t>(((values[x] > threshold) & dst[x]) << bit);
  }
}

// Text mask and the kernel masks of channels 1 .. K-2 packed into the Expander's bit grid, the
// smallest kernel into `seeds`.
void threshold_into_bits(RowUpsampler& upsampler, int32_t num_levels, float threshold,
                         int32_t height, int32_t width, uint8_t* bits, int64_t stride,
                         uint8_t* seeds) {
  LogitsWorkspace& ws = logits_workspace;
  float* text = ws.text.data();
  float* values = ws.values.data();
  std::vector<int32_t> chunks;
  std::memset(bits, 0, stride);
  std::memset(bits + (static_cast<int64_t>(height) + 1) * stride, 0, stride);
  for (int32_t y = 0; y < height; ++y) {
    uint8_t* bit_row = bits + (static_cast<int64_t>(y) + 1) * stride + 1;
    uint8_t* seed_row = seeds + static_cast<int64_t>(y) * width;
    bit_row[-1] = 0;
    bit_row[width] = 0;
    upsampler.row(0, y, text);
    uint8_t any_text = 0;
    for (int32_t x = 0; x < width; ++x) {
      const uint8_t inside = text[x] > threshold;
      bit_row[x] = inside;
      any_text |= inside;
    }
    if (num_levels == 1) {  // the text map is the seed plane; nothing to expand into
      std::memcpy(seed_row, bit_row, width);
      std::memset(bit_row, 0, width);
      continue;
    }
    std::memset(seed_row, 0, width);
    if (!any_text) continue;  // every kernel is masked by the text map
    // Kernels only where text is: column chunks holding at least one text pixel.
    chunks.clear();
    for (int32_t begin = 0; begin < width; begin += kChunk) {
      const int32_t end = std::min(begin + kChunk, width);
      uint8_t any = 0;
      for (int32_t x = begin; x < end; ++x) any |= bit_row[x];
      if (any) chunks.push_back(begin);
    }
    for (int32_t level = 1; level < num_levels; ++level) {
      for (const int32_t begin : chunks) {
        const int32_t end = std::min(begin + kChunk, width);
        upsampler.row_part(level, y, values, begin, end);
        if (level < num_levels - 1) {
          or_kernel_bit(bit_row + begin, values + begin, threshold, level, end - begin);
        } else {
          for (int32_t x = begin; x < end; ++x) {
            seed_row[x] = static_cast<uint8_t>((values[x] > threshold) & bit_row[x]);
          }
        }
      }
    }
  }
}

// All K masks as planes [K, H, W] (kernel k masked by the text map), for the Expander's general
// path when K - 1 levels do not fit one packed block.
void threshold_into_planes(RowUpsampler& upsampler, int32_t num_levels, float threshold,
                           int32_t height, int32_t width, uint8_t* planes) {
  LogitsWorkspace& ws = logits_workspace;
  float* text = ws.text.data();
  float* values = ws.values.data();
  const int64_t plane_size = static_cast<int64_t>(height) * width;
  for (int32_t y = 0; y < height; ++y) {
    uint8_t* text_row = planes + static_cast<int64_t>(y) * width;
    upsampler.row(0, y, text);
    for (int32_t x = 0; x < width; ++x) text_row[x] = text[x] > threshold;
    for (int32_t level = 1; level < num_levels; ++level) {
      uint8_t* row = text_row + level * plane_size;
      upsampler.row(level, y, values);
      for (int32_t x = 0; x < width; ++x) {
        row[x] = static_cast<uint8_t>((values[x] > threshold) & text_row[x]);
      }
    }
  }
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor>
progressive_scale_expansion_from_logits_cpu(const at::Tensor& logits, int64_t scale,
                                            int64_t height, int64_t width, int64_t min_area,
                                            double logit_threshold) {
  pse_ext::check_pse_logits_inputs(logits, scale, height, width, min_area, logit_threshold,
                                   c10::DeviceType::CPU);
  const float threshold = pse_ext::float_threshold_below(logit_threshold);
  const at::TensorOptions options = logits.options();
  at::Tensor labels = at::zeros({height, width}, options.dtype(at::kInt));
  if (height == 0 || width == 0) {
    return {labels, at::empty({0}, options.dtype(at::kLong)),
            at::empty({0}, options.dtype(at::kDouble)),
            at::empty({0, 4}, options.dtype(at::kInt))};
  }
  const int32_t num_levels = static_cast<int32_t>(logits.size(0));
  const int32_t out_h = static_cast<int32_t>(height);
  const int32_t out_w = static_cast<int32_t>(width);
  const at::Tensor source = logits.contiguous();
  RowUpsampler upsampler(source.data_ptr<float>(), num_levels,
                         static_cast<int32_t>(logits.size(1)),
                         static_cast<int32_t>(logits.size(2)), static_cast<int32_t>(scale), out_h,
                         out_w);
  LogitsWorkspace& ws = logits_workspace;
  ws.text.resize(out_w);
  ws.values.resize(out_w);
  int32_t* label_data = labels.data_ptr<int32_t>();
  const int64_t plane_size = height * width;

  std::vector<InstanceStats> stats;
  if (num_levels - 1 <= pse_ext::cpu::kLevelsPerBlock) {
    if (static_cast<int64_t>(ws.masks.size()) < plane_size) ws.masks.resize(plane_size);
    Expander expander(ws.masks.data(), num_levels, out_h, out_w, label_data);
    threshold_into_bits(upsampler, num_levels, threshold, out_h, out_w, expander.packed_bits(),
                        expander.packed_stride(), ws.masks.data());
    stats = expander.run(min_area);
  } else {
    if (static_cast<int64_t>(ws.masks.size()) < num_levels * plane_size) {
      ws.masks.resize(num_levels * plane_size);
    }
    threshold_into_planes(upsampler, num_levels, threshold, out_h, out_w, ws.masks.data());
    Expander expander(ws.masks.data(), /*score=*/nullptr, num_levels, out_h, out_w, label_data);
    stats = expander.run(min_area);
  }
  pse_ext::cpu::add_text_score_sums(upsampler, /*text_channel=*/0, label_data, out_w, stats);
  auto [areas, score_sums, boxes] = pse_ext::cpu::stats_to_tensors(stats, options);
  return {labels, areas, score_sums, boxes};
}

}  // namespace

TORCH_LIBRARY_IMPL(pse_ext, CPU, m) {
  m.impl("progressive_scale_expansion_from_logits", &progressive_scale_expansion_from_logits_cpu);
}
