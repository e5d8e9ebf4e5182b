// Progressive scale expansion (PSENet) on the CPU, single-threaded.
//
// Semantics (official PSENet; reference_pse in tests/test_ops/pse_reference.py is the pure-Python
// reference): seeds are the 4-connected components of the smallest kernel with at least
// min_area pixels, all their pixels queued in raster order. For
// each level k = K-2 ... 0 the FIFO queue is drained: a popped pixel labels every 4-neighbour
// (order up, down, left, right) that is in kernel k and still unlabelled, and queues it; a pixel
// that labelled nothing is carried, in pop order, to the queue of the next level.
//
// Speed comes from the layout, not from changing that order:
// - one pass packs the levels of a block of up to six levels into a byte per pixel (bit k - lo =
//   "in kernel k"), plus a "labelled" bit, on a zero-padded grid, so a neighbour test is one byte
//   read and needs no bounds check (the padding is in no kernel);
// - queue entries that can never label anything (carried pixels, or seed pixels, whose
//   neighbours are all labelled or in no kernel still to come) are dropped: they are no-ops in
//   the reference, so this changes no result;
// - seeds come from a run-based union-find, whose roots are the raster-first runs, so instance
//   ids in raster order of the seed's first pixel fall out of one pass over the runs;
// - per-instance statistics are accumulated when a pixel is labelled (seeds run by run);
// - the packed grid and the queues are per-thread buffers reused across calls.
//
// Shared by the CPU ops (pse_kernel.cpp: kernels given as masks; pse_logits_kernel.cpp: masks
// built from low-resolution logits, packed straight into the Expander's bit grid).
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <tuple>
#include <vector>

namespace pse_ext {
namespace cpu {

constexpr uint8_t kLabelledBit = 0x80;
// Set for every pixel while the block's lowest level is above 0: the pixel may still be in a
// kernel of a later block, so it must not be dropped as dead.
constexpr uint8_t kLowerBlockBit = 0x40;
constexpr int kLevelsPerBlock = 6;

// A queued pixel with its instance id (saves a scattered read of the label map per pop).
struct Entry {
  int32_t x;
  int32_t y;
  int32_t id;
};

struct Run {
  int32_t y;
  int32_t x_begin;
  int32_t x_end;  // exclusive
};

struct InstanceStats {
  int64_t area = 0;
  double score_sum = 0.0;
  int32_t x_min = std::numeric_limits<int32_t>::max();
  int32_t y_min = std::numeric_limits<int32_t>::max();
  int32_t x_max = -1;
  int32_t y_max = -1;
};

inline bool any_nonzero_word(const uint8_t* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  return word != 0;
}

// Runs of non-zero pixels of one [H, W] plane, in raster order.
inline std::vector<Run> find_runs(const uint8_t* plane, int32_t height, int32_t width,
                           std::vector<int32_t>* row_first_run) {
  std::vector<Run> runs;
  row_first_run->assign(height + 1, 0);
  for (int32_t y = 0; y < height; ++y) {
    (*row_first_run)[y] = static_cast<int32_t>(runs.size());
    const uint8_t* row = plane + static_cast<int64_t>(y) * width;
    int32_t x = 0;
    while (x < width) {
      // Smallest kernels are mostly empty: skip zeros eight at a time.
      while (x + 8 <= width && !any_nonzero_word(row + x)) x += 8;
      while (x < width && row[x] == 0) ++x;
      if (x == width) break;
      const int32_t begin = x;
      while (x < width && row[x] != 0) ++x;
      runs.push_back({y, begin, x});
    }
  }
  (*row_first_run)[height] = static_cast<int32_t>(runs.size());
  return runs;
}

inline int32_t find_root(std::vector<int32_t>& parent, int32_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];  // path halving
    i = parent[i];
  }
  return i;
}

// The root of a set is always its smallest run index, i.e. its raster-first run.
inline void unite(std::vector<int32_t>& parent, int32_t a, int32_t b) {
  a = find_root(parent, a);
  b = find_root(parent, b);
  if (a < b) {
    parent[b] = a;
  } else if (b < a) {
    parent[a] = b;
  }
}

// Instance id (1..N, raster order of the component's first pixel, 0 = dropped) of every run.
inline std::vector<int32_t> label_runs(const std::vector<Run>& runs,
                                const std::vector<int32_t>& row_first_run, int32_t height,
                                int64_t min_area, int32_t* num_instances) {
  const int32_t num_runs = static_cast<int32_t>(runs.size());
  std::vector<int32_t> parent(num_runs);
  for (int32_t i = 0; i < num_runs; ++i) parent[i] = i;
  // 4-connectivity: runs of consecutive rows are connected when their column ranges overlap.
  for (int32_t y = 1; y < height; ++y) {
    int32_t above = row_first_run[y - 1];
    const int32_t above_end = row_first_run[y];
    for (int32_t j = row_first_run[y]; j < row_first_run[y + 1]; ++j) {
      while (above < above_end && runs[above].x_end <= runs[j].x_begin) ++above;
      for (int32_t a = above; a < above_end && runs[a].x_begin < runs[j].x_end; ++a) {
        unite(parent, a, j);
      }
    }
  }
  std::vector<int64_t> area(num_runs, 0);
  for (int32_t i = 0; i < num_runs; ++i) {
    parent[i] = find_root(parent, i);
    area[parent[i]] += runs[i].x_end - runs[i].x_begin;
  }
  std::vector<int32_t> instance(num_runs, 0);
  int32_t count = 0;
  for (int32_t i = 0; i < num_runs; ++i) {
    if (parent[i] == i) {
      instance[i] = area[i] >= min_area ? ++count : 0;
    } else {
      instance[i] = instance[parent[i]];  // parent[i] < i, already numbered
    }
  }
  *num_instances = count;
  return instance;
}

// dst[x] |= bit where src[x] != 0; restrict lets the compiler vectorise it.
inline void or_level_bit(uint8_t* __restrict dst, const uint8_t* __restrict src, uint8_t bit,
                  int32_t count) {
  for (int32_t x = 0; x < count; ++x) dst[x] |= src[x] != 0 ? bit : 0;
}

// Buffers reused by later calls on the same thread: faulting in fresh pages of multi-megabyte
// buffers on every call is costly next to the expansion itself. The queues are sized for
// the worst case, but only the part actually used becomes resident.
struct Workspace {
  std::unique_ptr<uint8_t[]> bits;
  std::unique_ptr<Entry[]> queue;
  std::unique_ptr<Entry[]> next_queue;
  int64_t bits_capacity = 0;
  int64_t queue_capacity = 0;

  void reserve(int64_t bits_size, int64_t queue_size) {
    if (bits_size > bits_capacity) {
      bits.reset(new uint8_t[bits_size]);
      bits_capacity = bits_size;
    }
    if (queue_size > queue_capacity) {
      queue.reset(new Entry[queue_size]);
      next_queue.reset(new Entry[queue_size]);
      queue_capacity = queue_size;
    }
  }
};

inline thread_local Workspace workspace;

class Expander {
 public:
  Expander(const uint8_t* kernels, const float* score, int32_t num_levels, int32_t height,
           int32_t width, int32_t* labels)
      : Expander(kernels, score, kernels + (num_levels - 1) * static_cast<int64_t>(height) * width,
                 num_levels, height, width, labels, /*prepacked=*/false) {}

  // Kernels handed over already packed, for callers that build the masks themselves: before
  // run(), they fill packed_bits() (padded [H + 2, W + 2] grid of stride W + 2, zero border; bit k
  // = "in kernel k" for k = 0 ... K - 2) and pass the smallest kernel as `seeds` ([H, W], non-zero
  // = inside). Needs K - 1 <= kLevelsPerBlock. Score sums are left at 0 (the caller computes
  // them).
  Expander(const uint8_t* seeds, int32_t num_levels, int32_t height, int32_t width,
           int32_t* labels)
      : Expander(nullptr, nullptr, seeds, num_levels, height, width, labels, /*prepacked=*/true) {
    TORCH_CHECK(num_levels - 1 <= kLevelsPerBlock, "Expander: at most ", kLevelsPerBlock + 1,
                " levels can be handed over packed, got ", num_levels);
  }

  uint8_t* packed_bits() { return bits_; }
  int64_t packed_stride() const { return stride_; }

  std::vector<InstanceStats> run(int64_t min_area) {
    if (num_levels_ > 1) {
      if (!prepacked_) pack_block(num_levels_ - 2, /*first_block=*/true);
    } else {
      std::memset(bits_, 0, bits_size_);  // no expansion; only the labelled bits get written
    }
    label_seeds(min_area);
    for (int32_t top = num_levels_ - 2; top >= 0 && queue_size_ > 0; top -= kLevelsPerBlock) {
      if (top != num_levels_ - 2) pack_block(top, /*first_block=*/false);
      const int32_t low = std::max(0, top - kLevelsPerBlock + 1);
      for (int32_t level = top; level >= low && queue_size_ > 0; --level) {
        expand_level(level, low);
      }
    }
    return std::move(stats_);
  }

 private:
  int64_t padded_index(int32_t x, int32_t y) const { return (y + 1) * stride_ + x + 1; }

  // Packs levels [low, top] into bits 0..top-low of each pixel, keeping the labelled bit.
  void pack_block(int32_t top, bool first_block) {
    const int32_t low = std::max(0, top - kLevelsPerBlock + 1);
    const uint8_t lower = low > 0 ? kLowerBlockBit : 0;
    if (first_block) {
      std::memset(bits_, 0, stride_);
      std::memset(bits_ + (height_ + 1) * stride_, 0, stride_);
    }
    for (int32_t y = 0; y < height_; ++y) {
      uint8_t* row = bits_ + padded_index(0, y);
      row[-1] = 0;
      row[width_] = 0;
      if (first_block) {
        std::fill(row, row + width_, lower);
      } else {
        for (int32_t x = 0; x < width_; ++x) row[x] = (row[x] & kLabelledBit) | lower;
      }
      for (int32_t level = low; level <= top; ++level) {
        or_level_bit(row, kernels_ + level * plane_size_ + static_cast<int64_t>(y) * width_,
                     static_cast<uint8_t>(1u << (level - low)), width_);
      }
    }
  }

  void label_seeds(int64_t min_area) {
    const uint8_t* smallest = seeds_;
    std::vector<int32_t> row_first_run;
    const std::vector<Run> runs = find_runs(smallest, height_, width_, &row_first_run);
    int32_t num_instances = 0;
    const std::vector<int32_t> instance =
        label_runs(runs, row_first_run, height_, min_area, &num_instances);
    stats_.assign(num_instances, InstanceStats());
    for (size_t i = 0; i < runs.size(); ++i) {
      if (instance[i] != 0) mark_run(runs[i], instance[i]);
    }
    // The reference queues every seed pixel in raster order (runs are in raster order); a pixel
    // none of whose neighbours can ever be labelled is a no-op at every level, so skip it.
    const uint8_t claimable_mask = static_cast<uint8_t>(~kLabelledBit);
    for (size_t i = 0; i < runs.size(); ++i) {
      const int32_t id = instance[i];
      if (id == 0) continue;
      const Run& run = runs[i];
      const uint8_t* row = bits_ + padded_index(0, run.y);
      for (int32_t x = run.x_begin; x < run.x_end; ++x) {
        const uint8_t around = claimable(row[x - stride_]) | claimable(row[x + stride_]) |
                               claimable(row[x - 1]) | claimable(row[x + 1]);
        queue_[queue_size_] = {x, run.y, id};
        queue_size_ += (around & claimable_mask) != 0;
      }
    }
  }

  // Non-zero iff the pixel is unlabelled and in some kernel still to come.
  static inline uint8_t claimable(uint8_t b) {
    return (b & kLabelledBit) ? 0 : b;
  }

  void mark_run(const Run& run, int32_t id) {
    const int64_t begin = static_cast<int64_t>(run.y) * width_ + run.x_begin;
    const int32_t length = run.x_end - run.x_begin;
    std::fill(labels_ + begin, labels_ + begin + length, id);
    uint8_t* bits = bits_ + padded_index(run.x_begin, run.y);
    for (int32_t i = 0; i < length; ++i) bits[i] |= kLabelledBit;
    InstanceStats& s = stats_[id - 1];
    if (score_ != nullptr) {
      double sum = 0.0;
      for (int32_t i = 0; i < length; ++i) sum += score_[begin + i];
      s.score_sum += sum;
    }
    s.area += length;
    s.x_min = std::min(s.x_min, run.x_begin);
    s.x_max = std::max(s.x_max, run.x_end - 1);
    s.y_min = std::min(s.y_min, run.y);
    s.y_max = std::max(s.y_max, run.y);
  }

  // Labels one expanded pixel. A step up can only lower y_min, a step down only raise y_max,
  // and so on, so each direction updates one side of the box.
  enum Side { kYMin, kYMax, kXMin, kXMax };
  template <Side side>
  inline void mark(int32_t coordinate, int64_t index, int64_t padded, int32_t id) {
    labels_[index] = id;
    bits_[padded] |= kLabelledBit;
    InstanceStats& s = stats_[id - 1];
    s.area += 1;
    if (score_ != nullptr) s.score_sum += score_[index];
    if (side == kYMin) s.y_min = std::min(s.y_min, coordinate);
    if (side == kYMax) s.y_max = std::max(s.y_max, coordinate);
    if (side == kXMin) s.x_min = std::min(s.x_min, coordinate);
    if (side == kXMax) s.x_max = std::max(s.x_max, coordinate);
  }

  void expand_level(int32_t level, int32_t low) {
    const uint8_t level_bit = static_cast<uint8_t>(1u << (level - low));
    const uint8_t test_mask = level_bit | kLabelledBit;
    // A neighbour keeps a carried pixel alive if it is unlabelled and in some lower kernel.
    const uint8_t lower_mask =
        static_cast<uint8_t>((level_bit - 1) | (low > 0 ? kLowerBlockBit : 0));
    Entry* queue = queue_;
    Entry* next = next_queue_;
    uint8_t* bits = bits_;
    const int64_t stride = stride_;
    const int64_t width = width_;
    int64_t tail = queue_size_;
    int64_t next_size = 0;
    for (int64_t head = 0; head < tail; ++head) {
      const Entry q = queue[head];
      const int64_t index = q.y * width + q.x;
      const int64_t padded = index + 2 * static_cast<int64_t>(q.y) + stride + 1;
      // Same neighbour order as the reference: up, down, left, right.
      const uint8_t up = bits[padded - stride];
      const uint8_t down = bits[padded + stride];
      const uint8_t left = bits[padded - 1];
      const uint8_t right = bits[padded + 1];
      const unsigned take = ((up & test_mask) == level_bit) |
                            (((down & test_mask) == level_bit) << 1) |
                            (((left & test_mask) == level_bit) << 2) |
                            (((right & test_mask) == level_bit) << 3);
      if (take == 0) {
        const uint8_t around = claimable(up) | claimable(down) | claimable(left) |
                               claimable(right);
        next[next_size] = q;
        next_size += (around & lower_mask) != 0;
        continue;
      }
      if (take & 1u) {
        mark<kYMin>(q.y - 1, index - width, padded - stride, q.id);
        queue[tail++] = {q.x, q.y - 1, q.id};
      }
      if (take & 2u) {
        mark<kYMax>(q.y + 1, index + width, padded + stride, q.id);
        queue[tail++] = {q.x, q.y + 1, q.id};
      }
      if (take & 4u) {
        mark<kXMin>(q.x - 1, index - 1, padded - 1, q.id);
        queue[tail++] = {q.x - 1, q.y, q.id};
      }
      if (take & 8u) {
        mark<kXMax>(q.x + 1, index + 1, padded + 1, q.id);
        queue[tail++] = {q.x + 1, q.y, q.id};
      }
    }
    std::swap(queue_, next_queue_);
    queue_size_ = next_size;
  }

  // The one place that sets up the members and the per-thread workspace.
  Expander(const uint8_t* kernels, const float* score, const uint8_t* seeds, int32_t num_levels,
           int32_t height, int32_t width, int32_t* labels, bool prepacked)
      : kernels_(kernels),
        score_(score),
        num_levels_(num_levels),
        height_(height),
        width_(width),
        stride_(static_cast<int64_t>(width) + 2),
        plane_size_(static_cast<int64_t>(height) * width),
        labels_(labels),
        bits_size_((static_cast<int64_t>(height) + 2) * stride_),
        seeds_(seeds),
        prepacked_(prepacked) {
    workspace.reserve(bits_size_, plane_size_);
    bits_ = workspace.bits.get();
    queue_ = workspace.queue.get();
    next_queue_ = workspace.next_queue.get();
  }

  const uint8_t* kernels_;
  const float* score_;
  const int32_t num_levels_;
  const int32_t height_;
  const int32_t width_;
  const int64_t stride_;
  const int64_t plane_size_;
  int32_t* labels_;
  const int64_t bits_size_;
  const uint8_t* seeds_;  // [H, W] smallest kernel
  const bool prepacked_;
  uint8_t* bits_;  // padded [H + 2, W + 2]
  Entry* queue_;  // a level's queue holds distinct pixels, so H * W entries are enough
  Entry* next_queue_;
  int64_t queue_size_ = 0;
  std::vector<InstanceStats> stats_;
};

// Per-instance statistics as tensors: areas [N] int64, score_sums [N] float64, boxes [N, 4] int32.
inline std::tuple<at::Tensor, at::Tensor, at::Tensor> stats_to_tensors(
    const std::vector<InstanceStats>& stats, const at::TensorOptions& options) {
  const int64_t num_instances = static_cast<int64_t>(stats.size());
  at::Tensor areas = at::empty({num_instances}, options.dtype(at::kLong));
  at::Tensor score_sums = at::empty({num_instances}, options.dtype(at::kDouble));
  at::Tensor boxes = at::empty({num_instances, 4}, options.dtype(at::kInt));
  int64_t* areas_data = areas.data_ptr<int64_t>();
  double* sums_data = score_sums.data_ptr<double>();
  int32_t* boxes_data = boxes.data_ptr<int32_t>();
  for (int64_t i = 0; i < num_instances; ++i) {
    areas_data[i] = stats[i].area;
    sums_data[i] = stats[i].score_sum;
    boxes_data[4 * i + 0] = stats[i].x_min;
    boxes_data[4 * i + 1] = stats[i].y_min;
    boxes_data[4 * i + 2] = stats[i].x_max;
    boxes_data[4 * i + 3] = stats[i].y_max;
  }
  return {areas, score_sums, boxes};
}

}  // namespace cpu
}  // namespace pse_ext
