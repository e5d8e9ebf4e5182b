// Per-instance sums of sigmoid(text logit); see text_score_sums.h.
#include "cpu/text_score_sums.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

// The loops are compiled for the baseline instruction set and for AVX2, and the loader picks the
// clone the CPU supports (GCC function multi-versioning; no effect elsewhere). No FMA contraction
// is enabled, so both clones round alike.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define PSE_EXT_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PSE_EXT_VECTOR_CLONES
#endif

namespace pse_ext {
namespace cpu {
namespace {

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

}  // namespace

void add_text_score_sums(RowUpsampler& upsampler, int32_t text_channel, const int32_t* labels,
                         int32_t width, std::vector<InstanceStats>& stats) {
  if (stats.empty()) return;
  int32_t y_begin = std::numeric_limits<int32_t>::max();
  int32_t y_end = 0;
  for (const InstanceStats& s : stats) {
    y_begin = std::min(y_begin, s.y_min);
    y_end = std::max(y_end, s.y_max + 1);
  }
  // Per-thread row buffers, reused across calls.
  thread_local std::vector<float> text_row;
  thread_local std::vector<float> sigmoid_row;
  text_row.resize(width);
  sigmoid_row.resize(width);
  float* text = text_row.data();
  float* buffer = sigmoid_row.data();
  for (int32_t y = y_begin; y < y_end; ++y) {
    const int32_t* label_row = labels + static_cast<int64_t>(y) * width;
    upsampler.row(text_channel, y, text);
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

}  // namespace cpu
}  // namespace pse_ext
