// Bilinear resize with OpenCV's INTER_LINEAR sampling: output pixel d samples the source at
// (d + 0.5) * src/dst - 0.5 (pixel centres), edges clamped. Arithmetic is in double, as the
// JS implementation it replaced did, so the OCR models see bit-identical inputs.
#pragma once
#include <cstdint>

namespace kiln::vision {

// src: sh rows of sw pixels with `channels` interleaved values; dst: dh x dw x channels.
// round_to_int rounds each value half up (cv2.resize on 8-bit images rounds; PP-OCR
// preprocessing relies on it); otherwise values keep their fraction.
template <class T>
void resize_bilinear(const T* src, int64_t sw, int64_t sh, int64_t channels, float* dst, int64_t dw, int64_t dh,
                     bool round_to_int);

}  // namespace kiln::vision
