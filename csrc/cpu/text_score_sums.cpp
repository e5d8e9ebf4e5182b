// Per-instance sums of sigmoid(text logit); see text_score_sums.h.
#include "cpu/text_score_sums.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace pse_ext {
namespace cpu {

void add_text_score_sums(RowUpsampler& upsampler, int32_t text_channel, const int32_t* labels,
                         int32_t width, std::vector<InstanceStats>& stats) {
  if (stats.empty()) return;
  int32_t y_begin = std::numeric_limits<int32_t>::max();
  int32_t y_end = 0;
  for (const InstanceStats& s : stats) {
    y_begin = std::min(y_begin, s.y_min);
    y_end = std::max(y_end, s.y_max + 1);
  }
  // One upsampled row of text logits, per thread, reused across calls.
  thread_local std::vector<float> text_row;
  text_row.resize(width);
  float* text = text_row.data();
  for (int32_t y = y_begin; y < y_end; ++y) {
    const int32_t* label_row = labels + static_cast<int64_t>(y) * width;
    upsampler.row(text_channel, y, text);
    for (int32_t x = 0; x < width; ++x) {
      const int32_t label = label_row[x];
      if (label != 0) stats[label - 1].score_sum += 1.f / (1.f + std::exp(-text[x]));
    }
  }
}

}  // namespace cpu
}  // namespace pse_ext
