// Input validation of the pse_ext ops, shared by their CPU and CUDA kernels. Every message names
// the op and the argument and prints the offending value.
#pragma once

#include <ATen/ATen.h>

#include <cmath>
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
                                    int64_t width, int64_t min_area, double logit_threshold,
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
  TORCH_CHECK(!std::isnan(logit_threshold), name, ": logit_threshold should be a number, got ",
              logit_threshold);
  TORCH_CHECK(height * width < (int64_t{1} << 29), name,
              ": at most 2^29 output pixels are supported, got height x width = ", height, " x ",
              width);
}

// Input checks of pse_ext::progressive_scale_expansion_packed.
inline void check_pse_packed_inputs(const at::Tensor& packed, int64_t num_levels,
                                    const at::Tensor& text_logits, int64_t scale,
                                    int64_t min_area, c10::DeviceType device_type) {
  constexpr const char* name = "progressive_scale_expansion_packed";
  TORCH_CHECK(packed.dim() == 2, name, ": packed should be a 2D tensor [H, W], got ",
              packed.dim(), "D with shape ", packed.sizes());
  TORCH_CHECK(packed.scalar_type() == at::kByte, name, ": packed should be uint8, got ",
              packed.scalar_type());
  TORCH_CHECK(packed.device().type() == device_type, name, ": packed should be on a ",
              device_type, " device, got ", packed.device());
  TORCH_CHECK(num_levels >= 1 && num_levels <= 8, name,
              ": num_levels should be in [1, 8] (one bit per level in a byte), got ", num_levels);
  TORCH_CHECK(text_logits.dim() == 2, name, ": text_logits should be a 2D tensor [h, w], got ",
              text_logits.dim(), "D with shape ", text_logits.sizes());
  TORCH_CHECK(text_logits.scalar_type() == at::kFloat, name,
              ": text_logits should be float32, got ", text_logits.scalar_type());
  TORCH_CHECK(text_logits.device() == packed.device(), name,
              ": text_logits should be on the same device as packed (", packed.device(),
              "), got ", text_logits.device());
  TORCH_CHECK(scale >= 1 && scale <= 64, name, ": scale should be an integer in [1, 64], got ",
              scale);
  TORCH_CHECK(packed.size(0) <= scale * text_logits.size(0) &&
                  packed.size(1) <= scale * text_logits.size(1),
              name, ": packed [H, W] = ", packed.sizes(), " should fit in scale * text_logits = [",
              scale * text_logits.size(0), ", ", scale * text_logits.size(1), "]");
  TORCH_CHECK(min_area >= 0, name, ": min_area should be >= 0, got ", min_area);
  TORCH_CHECK(packed.size(0) * packed.size(1) < (int64_t{1} << 29), name,
              ": at most 2^29 pixels are supported, got H x W = ", packed.size(0), " x ",
              packed.size(1));
}

// The largest float32 <= `threshold`: for every float32 x, x > result exactly when x > threshold,
// so comparing in float32 keeps the double threshold's meaning.
inline float float_threshold_below(double threshold) {
  float result = static_cast<float>(threshold);
  if (static_cast<double>(result) > threshold) {
    result = std::nextafter(result, -std::numeric_limits<float>::infinity());
  }
  return result;
}

}  // namespace pse_ext
