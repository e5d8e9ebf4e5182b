// Input validation shared by the CPU and CUDA kernels of pse_ext::progressive_scale_expansion.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <limits>

namespace pse_ext {

// Checks ranks, dtypes, devices and sizes; every message prints the offending value.
inline void check_pse_inputs(const at::Tensor& kernels, const at::Tensor& score, int64_t min_area,
                             c10::DeviceType device_type) {
  TORCH_CHECK(kernels.dim() == 3, "progressive_scale_expansion: kernels should be a 3D tensor ",
              "[K, H, W], got ", kernels.dim(), "D with shape ", kernels.sizes());
  TORCH_CHECK(kernels.scalar_type() == at::kBool || kernels.scalar_type() == at::kByte,
              "progressive_scale_expansion: kernels should be bool or uint8, got ",
              kernels.scalar_type());
  TORCH_CHECK(kernels.size(0) >= 1,
              "progressive_scale_expansion: kernels should hold at least one level (K >= 1), "
              "got K = ", kernels.size(0), " (shape ", kernels.sizes(), ")");
  TORCH_CHECK(score.dim() == 2, "progressive_scale_expansion: score should be a 2D tensor [H, W], ",
              "got ", score.dim(), "D with shape ", score.sizes());
  TORCH_CHECK(score.scalar_type() == at::kFloat,
              "progressive_scale_expansion: score should be float32, got ", score.scalar_type());
  TORCH_CHECK(score.size(0) == kernels.size(1) && score.size(1) == kernels.size(2),
              "progressive_scale_expansion: score should have shape [H, W] = [", kernels.size(1),
              ", ", kernels.size(2), "] like kernels ", kernels.sizes(), ", got ", score.sizes());
  TORCH_CHECK(min_area >= 0, "progressive_scale_expansion: min_area should be >= 0, got ",
              min_area);
  TORCH_CHECK(kernels.device().type() == device_type,
              "progressive_scale_expansion: kernels should be on a ", device_type,
              " device, got ", kernels.device());
  TORCH_CHECK(score.device() == kernels.device(),
              "progressive_scale_expansion: score should be on the same device as kernels (",
              kernels.device(), "), got ", score.device());
  // Flat pixel indices and labels are int32, with room for 4 neighbours per pixel.
  TORCH_CHECK(kernels.size(1) * kernels.size(2) < (int64_t{1} << 29),
              "progressive_scale_expansion: at most 2^29 pixels per image are supported, got H x W "
              "= ", kernels.size(1), " x ", kernels.size(2));
}

}  // namespace pse_ext

namespace pse_ext {

// Input checks of pse_ext::progressive_scale_expansion_from_logits; messages print the bad value.
inline void check_pse_logits_inputs(const at::Tensor& logits, int64_t scale, int64_t height,
                                    int64_t width, int64_t min_area,
                                    c10::DeviceType device_type) {
  constexpr const char* name = "progressive_scale_expansion_from_logits";
  TORCH_CHECK(logits.dim() == 3, name, ": logits should be a 3D tensor [K, h, w], got ",
              logits.dim(), "D with shape ", logits.sizes());
  TORCH_CHECK(logits.scalar_type() == at::kFloat, name, ": logits should be float32, got ",
              logits.scalar_type());
  TORCH_CHECK(logits.size(0) >= 1, name,
              ": logits should hold at least the text channel (K >= 1), got K = ",
              logits.size(0), " (shape ", logits.sizes(), ")");
  TORCH_CHECK(logits.device().type() == device_type, name, ": logits should be on a ",
              device_type, " device, got ", logits.device());
  TORCH_CHECK(scale >= 1 && scale <= 64, name, ": scale should be an integer in [1, 64], got ",
              scale);
  TORCH_CHECK(height >= 0 && height <= scale * logits.size(1), name,
              ": height should be in [0, scale * h] = [0, ", scale * logits.size(1), "], got ",
              height);
  TORCH_CHECK(width >= 0 && width <= scale * logits.size(2), name,
              ": width should be in [0, scale * w] = [0, ", scale * logits.size(2), "], got ",
              width);
  TORCH_CHECK(min_area >= 0, name, ": min_area should be >= 0, got ", min_area);
  TORCH_CHECK(height * width < (int64_t{1} << 29), name,
              ": at most 2^29 output pixels are supported, got height x width = ", height, " x ",
              width);
}

}  // namespace pse_ext
