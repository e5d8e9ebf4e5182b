// Bilinear upsampling (align_corners=False, integer factor) of low-resolution maps, one output
// row at a time, with the taps and the evaluation order of torch's CPU upsample_bilinear2d.
// Shared by the CPU kernels that threshold logits without materialising the upsampled maps
// (pse_logits_kernel.cpp) and by the per-instance score sums (text_score_sums.cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace pse_ext {
namespace cpu {

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

}  // namespace cpu
}  // namespace pse_ext
