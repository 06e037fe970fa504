// Indirection buffers for NHWC 2-D convolution (IGEMM and depthwise): one pointer per
// (output pixel, kernel tap) to the input pixel that tap reads, or to a shared zero row
// where it falls into the padding. Built once per input shape; the kernels add a byte
// offset to every non-zero pointer, so the same buffer serves other batch images, groups
// (channel offset) and a moved input.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kiln {

// One image. Input coordinate = out * stride - pad + k * dilation; pads may be anything
// (out_h/out_w say where the output ends, so pad_end is implied).
struct NhwcConv2dShape {
  size_t in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  size_t kernel_h = 1, kernel_w = 1;
  size_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  ptrdiff_t pad_top = 0, pad_left = 0;
  size_t pixel_stride = 1;  // elements between neighbouring input pixels (all channels)
};

// Pointers for output pixels grouped in tiles of mr: [ceil(P / mr)][taps][mr], taps in
// (kh, kw) row-major order; pixels past P repeat the last one. mr = 1 gives the
// depthwise layout [P][taps].
size_t nhwc_conv_indirection_size(const NhwcConv2dShape& s, size_t mr);
// x: the image's first element (the pointers' base); zero: the padding row.
void nhwc_conv_indirection_init(const NhwcConv2dShape& s, size_t mr, const float* x, const float* zero,
                                const float** out);
// The same over int8 data (qd8-f32-qc8w-igemm: a quantized image, pixel_stride in bytes).
void nhwc_conv_indirection_init(const NhwcConv2dShape& s, size_t mr, const int8_t* x, const int8_t* zero,
                                const int8_t** out);

}  // namespace kiln
