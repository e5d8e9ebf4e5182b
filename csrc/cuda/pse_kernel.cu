// Progressive scale expansion (PSENet) on CUDA, with the same result as the CPU kernel.
//
// The reference drains one FIFO queue per level. Here a level's queue is processed one BFS layer
// at a time, which is the order a FIFO pops it in: all entries of layer d before any of d + 1.
// Within a layer every entry offers itself to its unlabelled in-kernel neighbours with
// atomicMin(position * 4 + direction), so a pixel goes to the earliest queue entry that reaches
// it, as in the FIFO; a prefix sum over the (position, direction) slots then appends the winners
// in the order the FIFO would have pushed them. Entries that claimed nothing (and still have a
// neighbour some lower kernel may give them) are carried to the next level in queue order. So the
// partition is the reference's, ties included; only the float64 score sums may differ in their
// last bits (atomic accumulation order).
//
// Seeds: 4-connected components of the smallest kernel by label equivalence (hook to the smallest
// neighbouring label, then pointer-jump), which converges to each component's smallest flat
// index, i.e. its raster-first pixel; kept roots are numbered 1..N in raster order by a prefix sum.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <climits>
#include <cstdint>
#include <tuple>

#include "pse_checks.h"

namespace {

constexpr int kThreads = 256;
constexpr int kUnclaimed = INT_MAX;
constexpr int kPixelsPerStatsThread = 16;

int blocks_for(int64_t count) { return static_cast<int>((count + kThreads - 1) / kThreads); }

// Flat index of the neighbour of `index` in `direction` (0 up, 1 down, 2 left, 3 right, the
// reference's order), or -1 outside the image.
__device__ __forceinline__ int neighbour_of(int index, int direction, int height, int width) {
  const int y = index / width;
  const int x = index - y * width;
  switch (direction) {
    case 0:
      return y > 0 ? index - width : -1;
    case 1:
      return y + 1 < height ? index + width : -1;
    case 2:
      return x > 0 ? index - 1 : -1;
    default:
      return x + 1 < width ? index + 1 : -1;
  }
}

__global__ void init_components(const uint8_t* __restrict__ smallest, int size,
                                int* __restrict__ component) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < size) component[i] = smallest[i] ? i : -1;
}

// Links the representative of each pixel's label to the smallest label around it.
__global__ void hook_components(const uint8_t* __restrict__ smallest, int height, int width,
                                int* component, int* changed) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= height * width || !smallest[i]) return;
  const int own = component[i];
  int smallest_label = own;
  for (int direction = 0; direction < 4; ++direction) {
    const int j = neighbour_of(i, direction, height, width);
    if (j >= 0 && smallest[j]) smallest_label = min(smallest_label, component[j]);
  }
  if (smallest_label < own) {
    atomicMin(&component[own], smallest_label);
    *changed = 1;
  }
}

// Labels only ever point to smaller indices of the same component; follow them to the root.
__global__ void compress_components(const uint8_t* __restrict__ smallest, int size,
                                    int* component) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= size || !smallest[i]) return;
  int label = component[i];
  while (component[label] != label) label = component[label];
  component[i] = label;
}

__global__ void count_component_areas(const int* __restrict__ component, int size,
                                      int* __restrict__ area) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < size && component[i] >= 0) atomicAdd(&area[component[i]], 1);
}

__global__ void flag_kept_roots(const int* __restrict__ component, const int* __restrict__ area,
                                int size, int64_t min_area, int* __restrict__ kept) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < size) kept[i] = (component[i] == i && area[i] >= min_area) ? 1 : 0;
}

__global__ void label_seed_pixels(const int* __restrict__ component, const int* __restrict__ kept,
                                  const int* __restrict__ rank, int size,
                                  int* __restrict__ labels) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= size) return;
  const int root = component[i];
  labels[i] = (root >= 0 && kept[root]) ? rank[root] : 0;
}

// Each entry of the layer offers itself to its claimable neighbours; the earliest entry wins.
__global__ void offer_to_neighbours(const int* __restrict__ layer, int layer_size,
                                    const uint8_t* __restrict__ level_kernel,
                                    const int* __restrict__ labels, int height, int width,
                                    int* claim) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= layer_size) return;
  const int i = layer[t];
  for (int direction = 0; direction < 4; ++direction) {
    const int j = neighbour_of(i, direction, height, width);
    if (j >= 0 && level_kernel[j] && labels[j] == 0) atomicMin(&claim[j], 4 * t + direction);
  }
}

// Marks the (entry, direction) slots that won their pixel and decides which entries to carry.
__global__ void resolve_claims(const int* __restrict__ layer, int layer_size,
                               const uint8_t* __restrict__ kernels, int level,
                               const int* __restrict__ labels, int height, int width,
                               const int* __restrict__ claim, int* __restrict__ won,
                               uint8_t* __restrict__ carry) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= layer_size) return;
  const int i = layer[t];
  const int64_t size = static_cast<int64_t>(height) * width;
  bool claimed_any = false;
  bool alive = false;
  for (int direction = 0; direction < 4; ++direction) {
    const int j = neighbour_of(i, direction, height, width);
    // Claims are never reset: a claim left from an earlier layer with this slot number would
    // name the same direction, hence this same pixel, which is queued only once per level and
    // never again after it has claimed something.
    const bool wins = j >= 0 && claim[j] == 4 * t + direction;
    won[4 * t + direction] = wins ? 1 : 0;
    claimed_any |= wins;
    if (j >= 0 && !wins && labels[j] == 0) {
      // Could a later (lower) level still give this neighbour to the entry?
      for (int lower = 0; lower < level && !alive; ++lower) alive = kernels[lower * size + j] != 0;
    }
  }
  carry[t] = (!claimed_any && alive) ? 1 : 0;
}

// Labels the won pixels and appends them to the queue in (position, direction) order.
__global__ void append_winners(const int* __restrict__ layer, int layer_size,
                               const int* __restrict__ won, const int* __restrict__ position,
                               int height, int width, int* labels, int* __restrict__ appended) {
  const int slot = blockIdx.x * blockDim.x + threadIdx.x;
  if (slot >= 4 * layer_size || !won[slot]) return;
  const int i = layer[slot / 4];
  const int j = neighbour_of(i, slot % 4, height, width);
  labels[j] = labels[i];
  appended[position[slot] - 1] = j;  // inclusive prefix sum
}

// Per-instance statistics; each thread sums a short stretch of pixels and flushes once per
// instance it meets, which keeps the atomics off the per-pixel path.
__global__ void accumulate_statistics(const int* __restrict__ labels,
                                      const float* __restrict__ score, int size, int width,
                                      unsigned long long* areas, double* score_sums, int* boxes) {
  const int64_t begin =
      (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * kPixelsPerStatsThread;
  if (begin >= size) return;
  const int end = static_cast<int>(
      begin + kPixelsPerStatsThread < size ? begin + kPixelsPerStatsThread : size);
  int current = 0;
  unsigned long long count = 0;
  double sum = 0.0;
  int x_min = INT_MAX, y_min = INT_MAX, x_max = -1, y_max = -1;
  auto flush = [&]() {
    if (current == 0) return;
    const int k = current - 1;
    atomicAdd(&areas[k], count);
    atomicAdd(&score_sums[k], sum);
    atomicMin(&boxes[4 * k + 0], x_min);
    atomicMin(&boxes[4 * k + 1], y_min);
    atomicMax(&boxes[4 * k + 2], x_max);
    atomicMax(&boxes[4 * k + 3], y_max);
  };
  for (int i = static_cast<int>(begin); i < end; ++i) {
    const int label = labels[i];
    if (label != current) {
      flush();
      current = label;
      count = 0;
      sum = 0.0;
      x_min = y_min = INT_MAX;
      x_max = y_max = -1;
    }
    if (label == 0) continue;
    const int y = i / width;
    const int x = i - y * width;
    count += 1;
    sum += static_cast<double>(score[i]);
    x_min = min(x_min, x);
    x_max = max(x_max, x);
    y_min = min(y_min, y);
    y_max = max(y_max, y);
  }
  flush();
}

// Seeds: labels [H * W] get 1..N on the kept components of the smallest kernel. Returns N.
int64_t label_seeds(const uint8_t* smallest, int height, int width, int64_t min_area,
                    at::Tensor& labels, cudaStream_t stream) {
  const int size = height * width;
  const auto int_options = labels.options();
  at::Tensor component = at::empty({size}, int_options);
  at::Tensor changed = at::zeros({1}, int_options);
  int* component_data = component.data_ptr<int>();
  init_components<<<blocks_for(size), kThreads, 0, stream>>>(smallest, size, component_data);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  while (true) {
    changed.zero_();
    hook_components<<<blocks_for(size), kThreads, 0, stream>>>(smallest, height, width,
                                                               component_data,
                                                               changed.data_ptr<int>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    compress_components<<<blocks_for(size), kThreads, 0, stream>>>(smallest, size,
                                                                   component_data);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    if (changed.item<int>() == 0) break;
  }
  at::Tensor area = at::zeros({size}, int_options);
  count_component_areas<<<blocks_for(size), kThreads, 0, stream>>>(component_data, size,
                                                                    area.data_ptr<int>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  at::Tensor kept = at::empty({size}, int_options);
  flag_kept_roots<<<blocks_for(size), kThreads, 0, stream>>>(
      component_data, area.data_ptr<int>(), size, min_area, kept.data_ptr<int>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  // Roots in raster order are the components' first pixels in raster order.
  const at::Tensor rank = at::cumsum(kept, 0, at::kInt);
  label_seed_pixels<<<blocks_for(size), kThreads, 0, stream>>>(
      component_data, kept.data_ptr<int>(), rank.data_ptr<int>(), size, labels.data_ptr<int>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return rank[size - 1].item<int>();
}

// Runs levels K-2 ... 0 of the expansion on `labels`, starting from every seed pixel.
void expand_levels(const uint8_t* kernels, int num_levels, int height, int width,
                   at::Tensor& labels, cudaStream_t stream) {
  const int64_t size = static_cast<int64_t>(height) * width;
  const auto int_options = labels.options();
  // A level's queue holds distinct pixels, so H * W entries are enough.
  at::Tensor queue = at::empty({size}, int_options);
  const at::Tensor seeds =
      at::nonzero(labels.view(-1).gt(0)).squeeze(1).to(at::kInt);  // raster order
  int64_t queue_size = seeds.numel();
  queue.narrow(0, 0, queue_size).copy_(seeds);
  at::Tensor claim = at::full({size}, kUnclaimed, int_options);
  at::Tensor carry = at::empty({size}, int_options.dtype(at::kByte));
  int* queue_data = queue.data_ptr<int>();
  int* labels_data = labels.data_ptr<int>();
  for (int level = num_levels - 2; level >= 0 && queue_size > 0; --level) {
    const uint8_t* level_kernel = kernels + level * size;
    int64_t begin = 0;
    int64_t end = queue_size;
    while (end > begin) {
      const int layer_size = static_cast<int>(end - begin);
      // One slot per (entry, direction); the caching allocator makes this cheap per layer.
      const at::Tensor won = at::empty({4 * static_cast<int64_t>(layer_size)}, int_options);
      offer_to_neighbours<<<blocks_for(layer_size), kThreads, 0, stream>>>(
          queue_data + begin, layer_size, level_kernel, labels_data, height, width,
          claim.data_ptr<int>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      resolve_claims<<<blocks_for(layer_size), kThreads, 0, stream>>>(
          queue_data + begin, layer_size, kernels, level, labels_data, height, width,
          claim.data_ptr<int>(), won.data_ptr<int>(), carry.data_ptr<uint8_t>() + begin);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
      const at::Tensor position = at::cumsum(won, 0, at::kInt);
      const int64_t appended = position[4 * static_cast<int64_t>(layer_size) - 1].item<int>();
      if (appended > 0) {
        append_winners<<<blocks_for(4 * static_cast<int64_t>(layer_size)), kThreads, 0, stream>>>(
            queue_data + begin, layer_size, won.data_ptr<int>(), position.data_ptr<int>(),
            height, width, labels_data, queue_data + end);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      }
      begin = end;
      end += appended;
    }
    // Carried entries, in the order the level popped them, form the next level's queue.
    const at::Tensor carried_positions = at::nonzero(carry.narrow(0, 0, end)).squeeze(1);
    const at::Tensor carried = queue.narrow(0, 0, end).index_select(0, carried_positions);
    queue_size = carried.numel();
    queue.narrow(0, 0, queue_size).copy_(carried);
  }
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> progressive_scale_expansion_cuda(
    const at::Tensor& kernels, const at::Tensor& score, int64_t min_area) {
  pse_ext::check_pse_inputs(kernels, score, min_area, c10::DeviceType::CUDA);
  const c10::cuda::CUDAGuard device_guard(kernels.device());
  cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  const int num_levels = static_cast<int>(kernels.size(0));
  const int height = static_cast<int>(kernels.size(1));
  const int width = static_cast<int>(kernels.size(2));
  const int size = height * width;
  const auto int_options = kernels.options().dtype(at::kInt);
  at::Tensor labels = at::zeros({height, width}, int_options);
  auto empty_statistics = [&]() {
    return std::make_tuple(labels, at::empty({0}, kernels.options().dtype(at::kLong)),
                           at::empty({0}, score.options().dtype(at::kDouble)),
                           at::empty({0, 4}, int_options));
  };
  if (size == 0) return empty_statistics();
  // bool and uint8 share the byte layout; any non-zero byte counts as "inside".
  const at::Tensor kernels_bytes = kernels.contiguous();
  const at::Tensor score_contiguous = score.contiguous();
  const uint8_t* kernels_data = static_cast<const uint8_t*>(kernels_bytes.data_ptr());

  const int64_t num_instances =
      label_seeds(kernels_data + static_cast<int64_t>(num_levels - 1) * size, height, width,
                  min_area, labels, stream);
  if (num_instances == 0) return empty_statistics();
  expand_levels(kernels_data, num_levels, height, width, labels, stream);

  at::Tensor areas = at::zeros({num_instances}, kernels.options().dtype(at::kLong));
  at::Tensor score_sums = at::zeros({num_instances}, score.options().dtype(at::kDouble));
  at::Tensor boxes = at::empty({num_instances, 4}, int_options);
  boxes.narrow(1, 0, 2).fill_(INT_MAX);
  boxes.narrow(1, 2, 2).fill_(-1);
  const int64_t stats_threads = (size + kPixelsPerStatsThread - 1) / kPixelsPerStatsThread;
  accumulate_statistics<<<blocks_for(stats_threads), kThreads, 0, stream>>>(
      labels.data_ptr<int>(), score_contiguous.data_ptr<float>(), size, width,
      reinterpret_cast<unsigned long long*>(areas.data_ptr<int64_t>()),
      score_sums.data_ptr<double>(), boxes.data_ptr<int>());
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {labels, areas, score_sums, boxes};
}

}  // namespace

TORCH_LIBRARY_IMPL(pse_ext, CUDA, m) {
  m.impl("progressive_scale_expansion", &progressive_scale_expansion_cuda);
}
