// load_calibration_set() (compress/calibrate.h): a directory of .npy tensors or PNG images
// -> one TensorMap per sample, checked against the model's inputs.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>

#include "compress/calibrate.h"
#include "compress/npy.h"
#include "compress/png_image.h"
#include "vision/image_tensor.h"

namespace kiln {

namespace fs = std::filesystem;

namespace {

std::string file_safe(const std::string& name) {
  std::string r;
  for (char c : name) r += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  return r;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The dims a sample of `d` must have: `given` when set, else the declared shape with open
// dims left at -1 (anything accepted).
Dims expected_dims(const TensorDesc& d, const std::map<std::string, Dims>& given) {
  if (auto it = given.find(d.name); it != given.end()) return it->second;
  return shape_dims(d.shape);
}

// An .npy tensor checked against the input; a missing leading batch of 1 is added.
Result<Tensor> fit_to_input(Tensor t, const TensorDesc& d, const Dims& want, const std::string& file) {
  if (t.dtype() != d.dtype)
    return invalid_argument(file + " holds " + dtype_name(t.dtype()) + " data but input '" + d.name + "' is " +
                            dtype_name(d.dtype));
  const bool batch_one = !want.empty() && (want[0] == 1 || want[0] < 0);
  if (t.rank() + 1 == int64_t(want.size()) && batch_one) {
    Dims with_batch = t.dims();
    with_batch.insert(with_batch.begin(), 1);
    KILN_ASSIGN_OR_RETURN(t, t.reshaped(with_batch));
  }
  bool fits = t.rank() == int64_t(want.size());
  for (size_t i = 0; fits && i < want.size(); ++i) fits = want[i] < 0 || want[i] == t.dim(int64_t(i));
  if (!fits)
    return invalid_argument(file + " is " + dims_to_string(t.dims()) + " but input '" + d.name + "' takes " +
                            dims_to_string(want) + " (-1: any size)");
  return t;
}

// A PNG stretched to the input's H x W and normalized as PP-OCR's classifier / recognizer.
Result<Tensor> image_sample(const std::string& file, const TensorDesc& d, const Dims& want) {
  if (d.dtype != DType::kF32 || want.size() != 4 || (want[1] != 1 && want[1] != 3))
    return invalid_argument(file + ": images need a float32 input [N,3,H,W] (or [N,1,H,W]); input '" + d.name +
                            "' is " + dtype_name(d.dtype) + " " + dims_to_string(want) + "; write .npy files instead");
  if (want[2] <= 0 || want[3] <= 0)
    return invalid_argument(file + ": input '" + d.name + "' has open height or width " + dims_to_string(want) +
                            "; give its dims (--input-shape) so images can be resized to them");
  if (want[0] > 1) return invalid_argument(file + ": input '" + d.name + "' has batch " + std::to_string(want[0]) +
                                           "; an image is one sample of batch 1");
  KILN_ASSIGN_OR_RETURN(DecodedImage img, read_png(file));
  if (img.channels == 2) {  // gray + alpha: the gray plane (alpha is ignored, as for RGBA)
    std::vector<uint8_t> gray(img.pixels.size() / 2);
    for (size_t i = 0; i < gray.size(); ++i) gray[i] = img.pixels[2 * i];
    img.pixels.swap(gray);
    img.channels = 1;
  }
  vision::ImageTensorOptions io;
  io.width = want[3], io.height = want[2];
  io.channels = int(want[1]);
  io.mean = {0.5, 0.5, 0.5};
  io.std = {0.5, 0.5, 0.5};
  const vision::ImageView view{img.pixels.data(), img.pixels.size(), img.width, img.height, img.channels};
  auto it = vision::image_to_tensor(view, io);
  if (!it.ok()) return it.status().with_context(file);
  return Tensor::from_f32(it->f32, it->dims);
}

// `stem` is "<file-safe input name>_<digits>": the input's position in `inputs` and the index.
bool parse_indexed(const std::string& stem, const std::vector<TensorDesc>& inputs, size_t* input, int64_t* index) {
  size_t best_len = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const std::string prefix = file_safe(inputs[k].name) + "_";
    if (stem.size() <= prefix.size() || stem.compare(0, prefix.size(), prefix) != 0 || prefix.size() <= best_len)
      continue;
    const std::string digits = stem.substr(prefix.size());
    if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    best_len = prefix.size(), *input = k, *index = std::stoll(digits);
  }
  return best_len > 0;
}

}  // namespace

std::string calibration_file_name(const std::string& input, int index) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%04d", index);
  return file_safe(input) + "_" + digits + ".npy";
}

Result<std::vector<TensorMap>> load_calibration_set(const std::string& dir, const std::vector<TensorDesc>& inputs,
                                                    const std::map<std::string, Dims>& input_dims) {
  if (inputs.empty()) return invalid_argument("the model has no inputs to calibrate with");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return io_error("calibration set " + dir + " is not a directory");
  std::vector<fs::path> npys, pngs;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || !e.is_regular_file(ec)) continue;
    const std::string ext = lower(e.path().extension().string());
    if (ext == ".npy") npys.push_back(e.path());
    if (ext == ".png") pngs.push_back(e.path());
  }
  if (ec) return io_error("cannot list " + dir + ": " + ec.message());
  std::sort(npys.begin(), npys.end());
  std::sort(pngs.begin(), pngs.end());
  if (npys.empty() && pngs.empty()) return invalid_argument("calibration set " + dir + " holds no .npy or .png file");
  if (!npys.empty() && !pngs.empty())
    return invalid_argument("calibration set " + dir + " mixes .npy files (" + npys.front().filename().string() +
                            ") and PNG images (" + pngs.front().filename().string() + "); use one kind");

  std::vector<TensorMap> samples;
  if (inputs.size() == 1) {
    const TensorDesc& d = inputs[0];
    const Dims want = expected_dims(d, input_dims);
    for (const fs::path& p : npys) {
      KILN_ASSIGN_OR_RETURN(Tensor t, npy::read_file(p.string()));
      KILN_ASSIGN_OR_RETURN(t, fit_to_input(std::move(t), d, want, p.string()));
      samples.push_back(TensorMap{{d.name, std::move(t)}});
    }
    for (const fs::path& p : pngs) {
      KILN_ASSIGN_OR_RETURN(Tensor t, image_sample(p.string(), d, want));
      samples.push_back(TensorMap{{d.name, std::move(t)}});
    }
    return samples;
  }

  std::string names;
  for (const TensorDesc& d : inputs) names += (names.empty() ? "'" : ", '") + d.name + "'";
  if (!pngs.empty())
    return invalid_argument("calibration set " + dir + " holds images, but the model has " +
                            std::to_string(inputs.size()) + " inputs (" + names + "); write <input>_<i>.npy files");
  // index -> (input position -> file)
  std::map<int64_t, std::map<size_t, fs::path>> by_index;
  for (const fs::path& p : npys) {
    size_t input = 0;
    int64_t index = 0;
    if (!parse_indexed(p.stem().string(), inputs, &input, &index))
      return invalid_argument(p.string() + " is not named <input>_<i>.npy for any input of the model (" + names +
                              "); a model with several inputs needs that naming for every file");
    auto [it, fresh] = by_index[index].emplace(input, p);
    if (!fresh)
      return invalid_argument(p.string() + " and " + it->second.string() + " are both sample " +
                              std::to_string(index) + " of input '" + inputs[input].name + "'");
  }
  for (const auto& [index, files] : by_index) {
    TensorMap m;
    for (size_t k = 0; k < inputs.size(); ++k) {
      auto f = files.find(k);
      if (f == files.end())
        return invalid_argument("calibration set " + dir + ": sample " + std::to_string(index) + " has no " +
                                calibration_file_name(inputs[k].name, int(index)) + " for input '" +
                                inputs[k].name + "'");
      KILN_ASSIGN_OR_RETURN(Tensor t, npy::read_file(f->second.string()));
      KILN_ASSIGN_OR_RETURN(t, fit_to_input(std::move(t), inputs[k], expected_dims(inputs[k], input_dims),
                                            f->second.string()));
      m[inputs[k].name] = std::move(t);
    }
    samples.push_back(std::move(m));
  }
  return samples;
}

}  // namespace kiln
