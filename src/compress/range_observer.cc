// RangeObserver (compress/calibrate.h): min / max, a zero count and a signed histogram
// on a zero-aligned grid whose width doubles as the data grow.
#include <algorithm>
#include <cmath>
#include <limits>

#include "compress/calibrate.h"

namespace kiln {

namespace {

int64_t floor_div2(int64_t k) { return k >= 0 ? k / 2 : -((-k + 1) / 2); }

struct Bin {
  double n = 0, sum = 0, sum2 = 0;
  void add(const Bin& o) { n += o.n, sum += o.sum, sum2 += o.sum2; }
};

// Contains 0 and is at least kMinCalibrationRange wide (grown on the side that holds data).
TensorRange finish(double lo, double hi) {
  lo = std::min(lo, 0.0), hi = std::max(hi, 0.0);
  if (hi - lo < kMinCalibrationRange) {
    if (-lo > hi)
      lo = hi - kMinCalibrationRange;
    else
      hi = lo + kMinCalibrationRange;
  }
  return TensorRange{float(lo), float(hi)};
}

}  // namespace

struct RangeObserver::Impl {
  int bins = 2048;
  int64_t count = 0;  // finite values
  int64_t zeros = 0;  // exact zeros: not binned (zero quantizes exactly)
  float min = std::numeric_limits<float>::infinity(), max = -std::numeric_limits<float>::infinity();
  double width = 0;   // 0 until a nonzero value arrives
  int64_t first = 0;  // grid index of hist[0]; bin k holds [k * width, (k + 1) * width)
  std::vector<Bin> hist;

  int64_t last() const { return first + int64_t(hist.size()) - 1; }
  int64_t bin_of(double x) const {
    return std::clamp(int64_t(std::floor(x / width)), first, last());
  }

  // Grows the grid to cover [lo, hi] (lo <= 0 <= hi, not both 0).
  void cover(double lo, double hi) {
    if (width == 0) {
      // The first batch spans bins - 1 widths, so its edges fall in at most `bins` bins.
      width = (hi - lo) / double(bins - 1);
      first = int64_t(std::floor(lo / width));
      hist.assign(size_t(int64_t(std::floor(hi / width)) - first + 1), Bin{});
      return;
    }
    auto span = [&] {
      return std::max(last(), int64_t(std::floor(hi / width))) - std::min(first, int64_t(std::floor(lo / width))) + 1;
    };
    while (span() > bins) {
      // Bins 2k and 2k + 1 become bin k of the doubled width: the edges stay multiples of it.
      const int64_t nfirst = floor_div2(first), nlast = floor_div2(last());
      std::vector<Bin> merged(size_t(nlast - nfirst + 1));
      for (int64_t k = first; k <= last(); ++k) merged[size_t(floor_div2(k) - nfirst)].add(hist[size_t(k - first)]);
      hist.swap(merged);
      first = nfirst;
      width *= 2;
    }
    const int64_t lo_k = std::min(first, int64_t(std::floor(lo / width)));
    const int64_t hi_k = std::max(last(), int64_t(std::floor(hi / width)));
    hist.insert(hist.begin(), size_t(first - lo_k), Bin{});
    first = lo_k;
    hist.resize(size_t(hi_k - first + 1));
  }
};

RangeObserver::RangeObserver(int bins) : impl_(std::make_shared<Impl>()) { impl_->bins = std::clamp(bins, 16, 1 << 20); }

int64_t RangeObserver::count() const { return impl_->count; }

void RangeObserver::add(const float* x, int64_t n) {
  Impl& s = *impl_;
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  int64_t finite = 0, zeros = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i])) continue;
    ++finite;
    zeros += x[i] == 0.f;
    lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  }
  if (finite == 0) return;
  s.count += finite, s.zeros += zeros;
  s.min = std::min(s.min, lo), s.max = std::max(s.max, hi);
  if (zeros == finite) return;
  s.cover(std::min(double(lo), 0.0), std::max(double(hi), 0.0));
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || x[i] == 0.f) continue;
    const double v = x[i];
    Bin& b = s.hist[size_t(s.bin_of(v) - s.first)];
    b.n += 1, b.sum += v, b.sum2 += v * v;
  }
}

TensorRange RangeObserver::minmax() const {
  const Impl& s = *impl_;
  if (s.count == 0) return finish(0, 0);
  return finish(s.min, s.max);
}

TensorRange RangeObserver::percentile(double pct) const {
  const Impl& s = *impl_;
  if (s.count == 0 || s.width == 0 || !(pct < 100)) return minmax();
  const double keep = std::max(pct, 0.0) / 100 * double(s.count);
  // |x| folds both sides onto one grid: bin k >= 0 is |x| bin k, bin k < 0 is |x| bin -k - 1.
  const int64_t m = std::max(s.last() + 1, -s.first);
  std::vector<double> mag(size_t(m), 0.0);
  for (int64_t k = s.first; k <= s.last(); ++k) mag[size_t(k >= 0 ? k : -k - 1)] += s.hist[size_t(k - s.first)].n;
  double inside = double(s.zeros), t = double(m) * s.width;
  for (int64_t j = 0; j < m; ++j) {
    const double c = mag[size_t(j)];
    if (inside + c >= keep) {
      t = (double(j) + std::clamp(c > 0 ? (keep - inside) / c : 0.0, 0.0, 1.0)) * s.width;
      break;
    }
    inside += c;
  }
  return finish(std::max(double(s.min), -t), std::min(double(s.max), t));
}

TensorRange RangeObserver::mse_optimal() const {
  const Impl& s = *impl_;
  if (s.count == 0 || s.width == 0) return minmax();
  const double lo = std::min(double(s.min), 0.0), hi = std::max(double(s.max), 0.0), w = s.width;
  // Bounds b_j = min(j * w, hi), j = 0..J, and a_i = max(-i * w, lo), i = 0..I. Bin k holds
  // [k * w, (k + 1) * w), so the values beyond b_j are the bins k >= j and those beyond a_i
  // the bins k <= -i - 1 (first <= 0 <= last + 1, as the grid always covers 0).
  const int64_t J = int64_t(std::ceil(hi / w)), I = int64_t(std::ceil(-lo / w));
  const int64_t nb = int64_t(s.hist.size());
  std::vector<Bin> suffix(size_t(nb + 1)), prefix(size_t(nb + 1));  // bins [t, nb) and [0, t)
  for (int64_t t = nb - 1; t >= 0; --t) (suffix[size_t(t)] = suffix[size_t(t + 1)]).add(s.hist[size_t(t)]);
  for (int64_t t = 0; t < nb; ++t) (prefix[size_t(t + 1)] = prefix[size_t(t)]).add(s.hist[size_t(t)]);
  auto above = [&](int64_t j) { return suffix[size_t(std::clamp<int64_t>(j - s.first, 0, nb))]; };
  auto below = [&](int64_t i) { return prefix[size_t(std::clamp<int64_t>(-i - s.first, 0, nb))]; };
  const double total = prefix[size_t(nb)].n;
  // Clipping error of the values beyond a bound c: sum (x - c)^2 = S2 - 2 c S1 + c^2 N.
  auto clip = [](const Bin& b, double c) { return std::max(0.0, b.sum2 - 2 * c * b.sum + c * c * b.n); };
  constexpr double kNoise = 1.0 / (12.0 * 255.0 * 255.0);
  double best = std::numeric_limits<double>::infinity(), best_a = lo, best_b = hi;
  for (int64_t i = 0; i <= I; ++i) {
    const double a = std::max(-double(i) * w, lo);
    const Bin out_a = below(i);
    const double clip_a = clip(out_a, a);
    if (clip_a >= best) continue;  // it only grows as a approaches 0
    for (int64_t j = 0; j <= J; ++j) {
      const double b = std::min(double(j) * w, hi);
      if (b - a <= 0) continue;
      const Bin out_b = above(j);
      const double e = clip_a + clip(out_b, b) + (b - a) * (b - a) * kNoise * (total - out_a.n - out_b.n);
      if (e < best) best = e, best_a = a, best_b = b;
    }
  }
  return finish(best_a, best_b);
}

}  // namespace kiln
