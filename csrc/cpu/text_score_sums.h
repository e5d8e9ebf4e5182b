// Per-instance sums of sigmoid(text logit), recomputed from the low-resolution text logits at the
// labelled pixels only, so the full-resolution score map is never stored.
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/bilinear_rows.h"
#include "cpu/pse_expander.h"

namespace pse_ext {
namespace cpu {

// Adds to stats[i].score_sum the sum of sigmoid(upsampled text logit) over the pixels labelled
// i + 1 in `labels` ([height, width], 0 = background). `upsampler` yields the text logit as its
// channel `text_channel`. Only the rows the instances span are visited.
void add_text_score_sums(RowUpsampler& upsampler, int32_t text_channel, const int32_t* labels,
                         int32_t width, std::vector<InstanceStats>& stats);

}  // namespace cpu
}  // namespace pse_ext
