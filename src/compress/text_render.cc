#include "compress/text_render.h"

#include <algorithm>

#include <ft2build.h>
#include FT_FREETYPE_H

#include "compress/eval_metrics.h"

namespace kiln {

struct TextRenderer::Impl {
  FT_Library library = nullptr;
  FT_Face face = nullptr;
  int size = 0;
  ~Impl() {
    if (face) FT_Done_Face(face);
    if (library) FT_Done_FreeType(library);
  }
  Status set_size(int pixel_size) {
    if (pixel_size < 4 || pixel_size > 512)
      return invalid_argument("text size " + std::to_string(pixel_size) + " px is outside [4, 512]");
    if (pixel_size == size) return Status::Ok();
    if (FT_Set_Pixel_Sizes(face, 0, FT_UInt(pixel_size)))
      return internal_error("FreeType cannot scale the font to " + std::to_string(pixel_size) + " px");
    size = pixel_size;
    return Status::Ok();
  }
  Status load(char32_t c, bool render) {
    if (FT_Load_Char(face, FT_ULong(c), render ? FT_LOAD_RENDER : FT_LOAD_DEFAULT))
      return internal_error("FreeType cannot load the glyph of U+" + std::to_string(uint32_t(c)));
    return Status::Ok();
  }
};

TextRenderer::~TextRenderer() = default;

Result<std::unique_ptr<TextRenderer>> TextRenderer::open(const std::string& font_path) {
  std::unique_ptr<TextRenderer> r(new TextRenderer());
  r->impl_ = std::make_unique<Impl>();
  if (FT_Init_FreeType(&r->impl_->library)) return internal_error("FreeType failed to initialise");
  if (FT_New_Face(r->impl_->library, font_path.c_str(), 0, &r->impl_->face))
    return io_error("cannot open the font " + font_path +
                    " (install Debian's fonts-dejavu-core, or pass a .ttf file with --font)");
  return r;
}

Result<TextRenderer::Metrics> TextRenderer::measure(const std::string& text, int pixel_size) {
  KILN_RETURN_IF_ERROR(impl_->set_size(pixel_size));
  Metrics m;
  const FT_Size_Metrics& sm = impl_->face->size->metrics;
  m.ascender = int(sm.ascender >> 6);
  m.descender = int((-sm.descender) >> 6);
  for (char32_t c : utf8_to_u32(text)) {
    KILN_RETURN_IF_ERROR(impl_->load(c, false));
    m.width += int(impl_->face->glyph->advance.x >> 6);
  }
  return m;
}

Result<std::vector<int>> TextRenderer::draw(InkImage& image, const std::string& text, int pixel_size, int x,
                                            int baseline) {
  KILN_RETURN_IF_ERROR(impl_->set_size(pixel_size));
  int bx0 = image.width, by0 = image.height, bx1 = 0, by1 = 0;
  int pen = x;
  for (char32_t c : utf8_to_u32(text)) {
    KILN_RETURN_IF_ERROR(impl_->load(c, true));
    const FT_GlyphSlot g = impl_->face->glyph;
    const FT_Bitmap& bm = g->bitmap;
    if (bm.pixel_mode != FT_PIXEL_MODE_GRAY && bm.rows > 0)
      return unsupported("the font renders glyphs in a pixel mode other than 8-bit gray");
    const int left = pen + g->bitmap_left, top = baseline - g->bitmap_top;
    for (int r = 0; r < int(bm.rows); ++r) {
      const int y = top + r;
      if (y < 0 || y >= image.height) continue;
      for (int col = 0; col < int(bm.width); ++col) {
        const int px = left + col;
        if (px < 0 || px >= image.width) continue;
        const uint8_t v = bm.buffer[r * bm.pitch + col];
        if (v == 0) continue;
        uint8_t& dst = image.ink[size_t(y) * size_t(image.width) + size_t(px)];
        dst = std::max(dst, v);
        bx0 = std::min(bx0, px), by0 = std::min(by0, y), bx1 = std::max(bx1, px + 1), by1 = std::max(by1, y + 1);
      }
    }
    pen += int(g->advance.x >> 6);
  }
  if (bx1 <= bx0) return std::vector<int>{0, 0, 0, 0};
  return std::vector<int>{bx0, by0, bx1, by1};
}

}  // namespace kiln
