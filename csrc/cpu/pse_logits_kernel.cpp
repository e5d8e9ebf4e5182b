// CPU kernel of pse_ext::progressive_scale_expansion_from_logits: PSENet's post-processing from
// the low-resolution logits, without materialising the full-resolution maps.
//
// Row by row, each channel is upsampled bilinearly (align_corners=False, integer factor) with the
// taps and the evaluation order of torch's CPU upsample_bilinear2d: every source row is first
// interpolated along x (cached, since 2 * scale output rows share it), then two such rows are
// blended along y. The thresholded row goes straight into the Expander's packed bit grid (bit k =
// "logit k > 0 and text logit > 0"), and the smallest kernel into the seed plane; rows without
// text skip the kernel channels. After the expansion, one pass over the rows the instances span
// recomputes the text logit there and sums sigmoid(text logit) per instance, so the score map is
// never stored either.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <tuple>
#include <vector>

#include "cpu/pse_expander.h"
#include "pse_checks.h"

// The row loops are compiled twice, for the baseline instruction set and for AVX2 (8 floats per
// vector instead of 4), and the loader picks the clone the CPU supports (GCC function
// multi-versioning; no effect on other compilers or architectures). Values do not change: no
// FMA contraction is enabled, so both clones round alike.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define PSE_EXT_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PSE_EXT_VECTOR_CLONES
#endif

namespace {

using pse_ext::cpu::Expander;
using pse_ext::cpu::InstanceStats;

// Source taps of the bilinear upsampling along one axis, computed like torch's CPU kernel
// (area_pixel_compute_source_index and guard_index_and_lambda, in float): the source coordinate
// of output d is (d + 0.5) / scale - 0.5, clamped at 0; the far edge repeats the last sample.
struct AxisTaps {
  std::vector<int32_t> first;   // lower source index
  std::vector<int32_t> second;  // upper source index (equal to `first` at the far edge)
  std::vector<float> first_weight;
  std::vector<float> second_weight;

  AxisTaps(int64_t in_size, int64_t out_size, int64_t scale)
      : first(out_size), second(out_size), first_weight(out_size), second_weight(out_size) {
    const float ratio = static_cast<float>(1.0 / static_cast<double>(scale));
    for (int64_t d = 0; d < out_size; ++d) {
      float source = ratio * (static_cast<float>(d) + 0.5f) - 0.5f;
      if (source < 0.f) source = 0.f;
      const int64_t index = std::min(static_cast<int64_t>(std::floor(source)), in_size - 1);
      const float lambda = std::min(std::max(source - static_cast<float>(index), 0.f), 1.f);
      first[d] = static_cast<int32_t>(index);
      second[d] = static_cast<int32_t>(index + (index < in_size - 1 ? 1 : 0));
      first_weight[d] = 1.f - lambda;
      second_weight[d] = lambda;
    }
  }
};

// Output rows of the upsampled channels, one at a time.
class RowUpsampler {
 public:
  RowUpsampler(const float* logits, int32_t channels, int32_t in_height, int32_t in_width,
               int32_t scale, int32_t out_height, int32_t out_width)
      : logits_(logits),
        in_height_(in_height),
        in_width_(in_width),
        out_width_(out_width),
        rows_(in_height, out_height, scale),
        cols_(in_width, out_width, scale),
        cache_(static_cast<size_t>(channels) * 2 * out_width),
        cached_row_(static_cast<size_t>(channels) * 2, -1) {}

  // Channel `channel` of output row y → out[0 .. out_width).
  void row(int32_t channel, int32_t y, float* out) { row_part(channel, y, out, 0, out_width_); }

  // The same for the columns [begin, end) only (out[begin .. end) is written).
  void row_part(int32_t channel, int32_t y, float* __restrict out, int32_t begin, int32_t end) {
    const float* __restrict top = source_row(channel, rows_.first[y]);
    const float* __restrict bottom = source_row(channel, rows_.second[y]);
    const float top_weight = rows_.first_weight[y];
    const float bottom_weight = rows_.second_weight[y];
    for (int32_t x = begin; x < end; ++x) out[x] = top[x] * top_weight + bottom[x] * bottom_weight;
  }

 private:
  // Source row r of a channel interpolated along x. Rows r and r + 1 have different parities, so
  // two slots per channel hold both rows a blend needs.
  const float* source_row(int32_t channel, int32_t r) {
    const size_t slot = static_cast<size_t>(channel) * 2 + (r & 1);
    float* __restrict out = cache_.data() + slot * out_width_;
    if (cached_row_[slot] != r) {
      const float* in = logits_ + (static_cast<int64_t>(channel) * in_height_ + r) * in_width_;
      const int32_t* first = cols_.first.data();
      const int32_t* second = cols_.second.data();
      const float* first_weight = cols_.first_weight.data();
      const float* second_weight = cols_.second_weight.data();
      for (int32_t x = 0; x < out_width_; ++x) {
        out[x] = in[first[x]] * first_weight[x] + in[second[x]] * second_weight[x];
      }
      cached_row_[slot] = r;
    }
    return out;
  }

  const float* logits_;
  const int32_t in_height_;
  const int32_t in_width_;
  const int32_t out_width_;
  const AxisTaps rows_;
  const AxisTaps cols_;
  std::vector<float> cache_;        // [channels][2][out_width]
  std::vector<int32_t> cached_row_;  // [channels][2], source row held by each slot
};

// Buffers reused across calls on a thread (see Workspace in pse_expander.h for why).
struct LogitsWorkspace {
  std::vector<uint8_t> masks;  // seed plane [H, W], or all K planes when they do not fit a block
  std::vector<float> text;     // one row
  std::vector<float> values;   // one row
};

thread_local LogitsWorkspace logits_workspace;

// Column chunk whose kernel channels are skipped when it holds no text pixel.
constexpr int32_t kChunk = 64;

// dst[x] |= bit where value > 0 and the pixel is text (bit 0 of dst).
void or_kernel_bit(uint8_t* __restrict dst, const float* __restrict values, int bit,
                   int32_t count) {
  for (int32_t x = 0; x < count; ++x) {
    dst[x] |= static_cast<uint8_t>(((values[x] > 0.f) & dst[x]) << bit);
  }
}

// Text mask and the kernel masks of channels 1 .. K-2 packed into the Expander's bit grid, the
// smallest kernel into `seeds`.
PSE_EXT_VECTOR_CLONES
void threshold_into_bits(RowUpsampler& upsampler, int32_t num_levels, int32_t height,
                         int32_t width, uint8_t* bits, int64_t stride, uint8_t* seeds) {
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
      const uint8_t inside = text[x] > 0.f;
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
          or_kernel_bit(bit_row + begin, values + begin, level, end - begin);
        } else {
          for (int32_t x = begin; x < end; ++x) {
            seed_row[x] = static_cast<uint8_t>((values[x] > 0.f) & bit_row[x]);
          }
        }
      }
    }
  }
}

// All K masks as planes [K, H, W] (kernel k masked by the text map), for the Expander's general
// path when K - 1 levels do not fit one packed block.
void threshold_into_planes(RowUpsampler& upsampler, int32_t num_levels, int32_t height,
                           int32_t width, uint8_t* planes) {
  LogitsWorkspace& ws = logits_workspace;
  float* text = ws.text.data();
  float* values = ws.values.data();
  const int64_t plane_size = static_cast<int64_t>(height) * width;
  for (int32_t y = 0; y < height; ++y) {
    uint8_t* text_row = planes + static_cast<int64_t>(y) * width;
    upsampler.row(0, y, text);
    for (int32_t x = 0; x < width; ++x) text_row[x] = text[x] > 0.f;
    for (int32_t level = 1; level < num_levels; ++level) {
      uint8_t* row = text_row + level * plane_size;
      upsampler.row(level, y, values);
      for (int32_t x = 0; x < width; ++x) {
        row[x] = static_cast<uint8_t>((values[x] > 0.f) & text_row[x]);
      }
    }
  }
}

// GCC keeps the clamp below as branches (no vectorisation) while comparisons may trap; nothing
// here reads floating-point exception flags.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
#endif

// e^x, relative error below 3e-7 on [-87, 88] (x is clamped there). Plain arithmetic, so a loop
// over it vectorises (std::exp does not): x = n ln2 + r with |r| <= ln2 / 2 (ln2 split in two for
// an exact n ln2), e^r by its degree-6 Taylor polynomial (remainder < r^7 / 5040 = 1.2e-7), 2^n
// written into the exponent bits.
inline float exp_approx(float x) {
  x = x < -87.f ? -87.f : x;
  x = x > 88.f ? 88.f : x;
  const float n = (x * 1.44269504f + 12582912.f) - 12582912.f;  // round to nearest integer
  const float r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
  float p = 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  const int32_t exponent_bits = (static_cast<int32_t>(n) + 127) << 23;
  float two_to_n;
  std::memcpy(&two_to_n, &exponent_bits, sizeof(two_to_n));
  return p * two_to_n;
}

// sum of sigmoid(logits[i]) for i < count, in double; `buffer` holds count floats.
PSE_EXT_VECTOR_CLONES
double sigmoid_sum(const float* __restrict logits, float* __restrict buffer, int32_t count) {
  for (int32_t i = 0; i < count; ++i) buffer[i] = 1.f / (1.f + exp_approx(-logits[i]));
  // Four accumulators: independent add chains (a double reduction does not vectorise).
  double sums[4] = {0.0, 0.0, 0.0, 0.0};
  int32_t i = 0;
  for (; i + 4 <= count; i += 4) {
    for (int k = 0; k < 4; ++k) sums[k] += buffer[i + k];
  }
  for (; i < count; ++i) sums[0] += buffer[i];
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

inline bool all_zero_4(const int32_t* p) {
  uint64_t a;
  uint64_t b;
  std::memcpy(&a, p, sizeof(a));
  std::memcpy(&b, p + 2, sizeof(b));
  return (a | b) == 0;
}

// score_sum of each instance = sum of sigmoid(text logit) over its pixels, run by run over the
// rows the instances span.
void add_score_sums(RowUpsampler& upsampler, const int32_t* labels, int32_t width,
                    std::vector<InstanceStats>& stats) {
  if (stats.empty()) return;
  int32_t y_begin = std::numeric_limits<int32_t>::max();
  int32_t y_end = 0;
  for (const InstanceStats& s : stats) {
    y_begin = std::min(y_begin, s.y_min);
    y_end = std::max(y_end, s.y_max + 1);
  }
  float* text = logits_workspace.text.data();
  float* buffer = logits_workspace.values.data();
  for (int32_t y = y_begin; y < y_end; ++y) {
    const int32_t* label_row = labels + static_cast<int64_t>(y) * width;
    upsampler.row(0, y, text);
    int32_t x = 0;
    while (x < width) {
      // Background is most of a row: skip it four labels at a time.
      while (x + 4 <= width && all_zero_4(label_row + x)) x += 4;
      if (x == width) break;
      const int32_t label = label_row[x];
      if (label == 0) {
        ++x;
        continue;
      }
      const int32_t begin = x;
      while (x < width && label_row[x] == label) ++x;
      stats[label - 1].score_sum += sigmoid_sum(text + begin, buffer, x - begin);
    }
  }
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor>
progressive_scale_expansion_from_logits_cpu(const at::Tensor& logits, int64_t scale,
                                            int64_t height, int64_t width, int64_t min_area) {
  pse_ext::check_pse_logits_inputs(logits, scale, height, width, min_area, c10::DeviceType::CPU);
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
    threshold_into_bits(upsampler, num_levels, out_h, out_w, expander.packed_bits(),
                        expander.packed_stride(), ws.masks.data());
    stats = expander.run(min_area);
  } else {
    if (static_cast<int64_t>(ws.masks.size()) < num_levels * plane_size) {
      ws.masks.resize(num_levels * plane_size);
    }
    threshold_into_planes(upsampler, num_levels, out_h, out_w, ws.masks.data());
    Expander expander(ws.masks.data(), /*score=*/nullptr, num_levels, out_h, out_w, label_data);
    stats = expander.run(min_area);
  }
  add_score_sums(upsampler, label_data, out_w, stats);
  auto [areas, score_sums, boxes] = pse_ext::cpu::stats_to_tensors(stats, options);
  return {labels, areas, score_sums, boxes};
}

}  // namespace

TORCH_LIBRARY_IMPL(pse_ext, CPU, m) {
  m.impl("progressive_scale_expansion_from_logits", &progressive_scale_expansion_from_logits_cpu);
}
