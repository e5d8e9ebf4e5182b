// Runs csrc/cuda/pse_kernel.cu on the CPU, one thread after another, for tests on machines without
// a GPU (see test_pse_cuda_emulated.py, which rewrites the kernel launches and includes this
// first). A serial run is one of the interleavings the kernels must be correct under (they only
// share data through atomics or across launches), so it checks their logic and indexing, not
// their races or speed.
#pragma once

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define C10_CUDA_KERNEL_LAUNCH_CHECK()

using cudaStream_t = void*;

namespace at::cuda {
inline cudaStream_t getCurrentCUDAStream() { return nullptr; }
}  // namespace at::cuda

namespace c10::cuda {
struct CUDAGuard {
  explicit CUDAGuard(c10::Device) {}
};
}  // namespace c10::cuda

struct EmulatedDim3 {
  unsigned int x = 0;
  unsigned int y = 0;
  unsigned int z = 0;
};
inline EmulatedDim3 blockIdx, threadIdx, blockDim;

using std::max;
using std::min;

template <typename T>
T atomicMin(T* address, T value) {
  const T old = *address;
  *address = std::min(old, value);
  return old;
}

template <typename T>
T atomicMax(T* address, T value) {
  const T old = *address;
  *address = std::max(old, value);
  return old;
}

template <typename T>
T atomicAdd(T* address, T value) {
  const T old = *address;
  *address = old + value;
  return old;
}

// `kernel<<<blocks, threads, 0, stream>>>(args...)` becomes
// `emulate_launch(kernel, blocks, threads)(args...)`.
template <typename Kernel>
auto emulate_launch(Kernel kernel, int blocks, int threads) {
  return [=](auto... args) {
    blockDim.x = threads;
    for (int b = 0; b < blocks; ++b) {
      blockIdx.x = b;
      for (int t = 0; t < threads; ++t) {
        threadIdx.x = t;
        kernel(args...);
      }
    }
  };
}
