// kv_cache: the keys and values of past tokens, per [batch, kv head], appended as tokens are
// generated and stored as fp32, fp16 or int8 (symmetric, per token and head, quantized on append).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "lightq/core/aligned.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/error.hpp"
#include "lightq/core/half.hpp"
#include "lightq/tensor/tensor_view.hpp"

namespace lightq {

/// Element format of a kv_cache.
enum class kv_storage {
  f32,  ///< fp32, row-major [token][head_dim]
  f16,  ///< IEEE fp16, row-major [token][head_dim]; converted to fp32 in registers when read
  qs8,  ///< int8 symmetric in [-127, 127], one fp32 scale per token (or block of tokens) and head, K and V
};

inline const char* to_string(kv_storage s) noexcept {
  switch (s) {
    case kv_storage::f32: return "f32";
    case kv_storage::f16: return "f16";
    case kv_storage::qs8: return "qs8";
  }
  return "?";
}

namespace detail {

/// Zero-initialised, copyable storage of a kv_cache. Buffers of 2 MiB and more are 2 MiB aligned
/// and, on Linux, advised as transparent huge pages before they are first touched: decode streams
/// the whole cache once per token, and with 4 KiB pages every 4 KiB read needs its own TLB entry
/// (measured: fp16 decode ~10% faster at 8k tokens). Where THP is off the advice does nothing.
template <class T>
class kv_cache_buffer {
 public:
  kv_cache_buffer() noexcept = default;
  explicit kv_cache_buffer(std::size_t count) : size_(count) {
    if (count == 0) return;
    const std::size_t bytes = count * sizeof(T);
    data_ = static_cast<T*>(aligned_malloc(bytes, LIGHTQ_ALIGNMENT, huge_page_size));
    std::memset(data_, 0, bytes);
  }
  kv_cache_buffer(const kv_cache_buffer& other) : kv_cache_buffer(other.size_) {
    if (size_) std::memcpy(data_, other.data_, size_ * sizeof(T));
  }
  kv_cache_buffer(kv_cache_buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  kv_cache_buffer& operator=(kv_cache_buffer other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~kv_cache_buffer() { aligned_free(data_); }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace detail

/// Options of a kv_cache.
struct kv_cache_options {
  /// qs8 only: subtract a per-channel key centre (the mean of each channel over the tokens of the
  /// first append, per sequence and head) before quantizing keys. Every logit of a query row
  /// shifts by the same q.centre, so softmax is unchanged, while channels with a large common
  /// offset (outlier channels) no longer eat the int8 range of the others.
  bool center_keys = true;
  /// qs8 only: divide each centred key channel by s[c] = a[c] / mean(a) (a[c]: the largest
  /// |k - centre| of channel c over the first append; s clamped to [1/16, 16]) before quantizing,
  /// and multiply the query's channel c by s[c] in the kernel (q.k is unchanged). Every key
  /// channel then spans the same int8 range, so outlier channels no longer cost the others their
  /// resolution; the query, quantized with two int8 digits per value, absorbs the factors.
  bool smooth_keys = true;
  /// qs8 only: tokens that share one K scale and one V scale (per sequence and head): 1 = per
  /// token (default), or a power of two up to 64 = per block of that many consecutive tokens
  /// (token t is in block t / scale_block). A block is quantized from its fp32 values as a whole:
  /// the cache keeps the open (last, partly filled) block's rows in fp32 and requantizes the
  /// block when a new token raises its largest |x|, so appending token by token gives exactly the
  /// bytes of appending the block at once. Per-block scales cost 8 bytes per block instead of per
  /// token, and a token of small norm gets the resolution of the block's largest.
  index_t scale_block = 1;
};

/// A fixed-capacity cache of keys and values, [batch, kv heads, capacity tokens, head_dim].
/// `append` adds the same number of tokens to every sequence (mask shorter sequences with
/// attention_options::key_lengths). Layouts are fixed per format and identical on every backend:
///  - f32: per (batch, head) a row-major [capacity][head_dim] block for K and one for V.
///  - f16: V row-major [capacity][head_dim]; K in tiles of 16 tokens, [tile][head_dim][16 tokens]
///    (the score loop then reads 16 keys of one channel per vector: no transposing sums, which
///    leaves fp16 decode - compute-bound after halving the bytes - more room to stream).
///  - qs8: per (batch, head), K in tiles of 16 tokens, [tile][head_dim/4][16 tokens][4 channels]
///    (the int8 dot products read 16 keys x 4 channels per step), with an fp32 scale per token
///    (or per block of options.scale_block tokens) and the int32 sum of each token's int8 values
///    (the correction of the VNNI +128 trick); V in groups of 4 tokens, [group][padded
///    head_dim][4 tokens] (P*V reads 4 tokens per step), with an fp32 scale per token (or block).
///    head_dim is padded with zeros to a multiple of 4 (K) and 16 (V).
class kv_cache {
 public:
  /// Tokens of a qs8 K tile and of a V group; capacities are rounded up to `token_block`.
  static constexpr index_t key_tile = 16;
  static constexpr index_t value_group = 4;
  static constexpr index_t token_block = 64;

  kv_cache() = default;
  kv_cache(index_t batch, index_t kv_heads, index_t capacity, index_t head_dim, kv_storage storage = kv_storage::f32,
           kv_cache_options options = {})
      : batch_(batch), kv_heads_(kv_heads), capacity_(capacity), head_dim_(head_dim), storage_(storage), options_(options) {
    const char* where = "kv_cache";
    check(batch >= 0, where, "batch = ", batch, " must be >= 0");
    check(kv_heads >= 0, where, "kv_heads = ", kv_heads, " must be >= 0");
    check(capacity >= 0, where, "capacity = ", capacity, " must be >= 0");
    check(head_dim >= 0, where, "head_dim = ", head_dim, " must be >= 0");
    if (storage == kv_storage::qs8)
      check(head_dim <= max_qs8_head_dim, where, "head_dim = ", head_dim, " exceeds ", max_qs8_head_dim,
            ", the largest for which the int8 dot products are exact in int32");
    const index_t block = options.scale_block;
    check(block >= 1 && block <= token_block && (block & (block - 1)) == 0, where, "options.scale_block = ", block,
          " must be a power of two in [1, ", token_block, "]");
    padded_capacity_ = (capacity + token_block - 1) / token_block * token_block;
    key_groups_ = (head_dim + 3) / 4;
    value_dim_ = (head_dim + 15) / 16 * 16;
    const auto slabs = static_cast<std::size_t>(batch * kv_heads);
    const auto cap = static_cast<std::size_t>(padded_capacity_);
    switch (storage) {
      case kv_storage::f32:
        f32_ = detail::kv_cache_buffer<float>(2 * slabs * cap * static_cast<std::size_t>(head_dim));
        break;
      case kv_storage::f16:
        f16_ = detail::kv_cache_buffer<std::uint16_t>(2 * slabs * cap * static_cast<std::size_t>(head_dim));
        break;
      case kv_storage::qs8:
        keys_q_ = detail::kv_cache_buffer<std::int8_t>(slabs * cap * static_cast<std::size_t>(key_groups_ * 4));
        values_q_ = detail::kv_cache_buffer<std::int8_t>(slabs * cap * static_cast<std::size_t>(value_dim_));
        scales_ = detail::kv_cache_buffer<float>(2 * slabs * cap / static_cast<std::size_t>(block));
        key_sums_ = detail::kv_cache_buffer<std::int32_t>(slabs * cap);
        centers_ = detail::kv_cache_buffer<float>(2 * slabs * static_cast<std::size_t>(head_dim));
        row_scratch_ = detail::kv_cache_buffer<std::int8_t>(static_cast<std::size_t>(key_groups_ * 4));
        // The open block's rows (K centred and smoothed, V) in fp32, and its largest |k|, |v|.
        open_rows_ = detail::kv_cache_buffer<float>(2 * slabs * static_cast<std::size_t>(block * head_dim + 1));
        open_max_ = detail::kv_cache_buffer<float>(2 * slabs);
        break;
    }
  }

  /// Largest head_dim of a qs8 cache: 255 * 127 * head_dim stays below 2^31 (VNNI +128 trick).
  static constexpr index_t max_qs8_head_dim = 16384;

  index_t batch() const noexcept { return batch_; }
  index_t kv_heads() const noexcept { return kv_heads_; }
  index_t capacity() const noexcept { return capacity_; }
  index_t head_dim() const noexcept { return head_dim_; }
  /// Tokens stored so far (the same for every sequence).
  index_t tokens() const noexcept { return tokens_; }
  kv_storage storage() const noexcept { return storage_; }
  const kv_cache_options& options() const noexcept { return options_; }
  /// Tokens per K/V scale (options().scale_block): 1 = per-token scales.
  index_t scale_block() const noexcept { return options_.scale_block; }

  /// Bytes an attention call reads for the tokens stored now: K and V elements (with the
  /// padding of head_dim) plus the scales (per token or per block) and per-token key sums.
  std::size_t bytes() const noexcept { return bytes_for(tokens_); }
  /// Bytes held for the full capacity.
  std::size_t capacity_bytes() const noexcept { return bytes_for(padded_capacity_); }
  /// Bytes per token and head (K + V + metadata; with per-block scales, their 8 bytes per block
  /// are spread over its tokens and rounded down).
  std::size_t bytes_per_token() const noexcept {
    switch (storage_) {
      case kv_storage::f32: return 2 * sizeof(float) * static_cast<std::size_t>(head_dim_);
      case kv_storage::f16: return 2 * sizeof(std::uint16_t) * static_cast<std::size_t>(head_dim_);
      case kv_storage::qs8:
        return static_cast<std::size_t>(key_groups_ * 4 + value_dim_) + sizeof(std::int32_t) +
               2 * sizeof(float) / static_cast<std::size_t>(options_.scale_block);
    }
    return 0;
  }

  /// Forgets every token (the key centres are recomputed on the next append).
  void clear() noexcept {
    tokens_ = 0;
    centered_ = false;
  }

  /// Appends k, v: [batch, kv heads, new tokens, head_dim] fp32 (any strides). An error if the
  /// shapes differ from the cache's or the cache would overflow. qs8 quantizes here.
  template <class Arch = default_arch>
  void append(tensor_view<const float, 4> k, tensor_view<const float, 4> v) {
    const char* where = "kv_cache::append";
    check(k.extents() == v.extents(), where, "k extents ", k.extents_string(), " must equal v extents ",
          v.extents_string());
    check_equal(k.extent(0), batch_, where, "k batch", "cache batch");
    check_equal(k.extent(1), kv_heads_, where, "k kv heads", "cache kv_heads");
    check_equal(k.extent(3), head_dim_, where, "k head_dim", "cache head_dim");
    const index_t n = k.extent(2);
    if (n > capacity_ - tokens_)
      fail(where, "cache overflow: ", tokens_, " tokens + ", n, " new exceed the capacity ", capacity_);
    if (n == 0) return;
    for (index_t b = 0; b < batch_; ++b)
      for (index_t h = 0; h < kv_heads_; ++h) {
        const index_t slab = b * kv_heads_ + h;
        switch (storage_) {
          case kv_storage::f32:
            for (index_t t = 0; t < n; ++t) {
              float* kd = key_f32(slab) + (tokens_ + t) * head_dim_;
              float* vd = value_f32(slab) + (tokens_ + t) * head_dim_;
              for (index_t d = 0; d < head_dim_; ++d) {
                kd[d] = k(b, h, t, d);
                vd[d] = v(b, h, t, d);
              }
            }
            break;
          case kv_storage::f16:
            for (index_t t = 0; t < n; ++t) {
              // K: token -> tile token/16 of [head_dim][16], slot token%16; V row-major.
              const index_t token = tokens_ + t;
              std::uint16_t* kd = key_f16(slab) + (token / key_tile) * key_tile * head_dim_ + token % key_tile;
              std::uint16_t* vd = value_f16(slab) + token * head_dim_;
              for (index_t d = 0; d < head_dim_; ++d) {
                kd[d * key_tile] = lightq::float_to_half_bits(k(b, h, t, d));
                vd[d] = lightq::float_to_half_bits(v(b, h, t, d));
              }
            }
            break;
          case kv_storage::qs8:
            if (!centered_) set_center<Arch>(k, b, h, slab, n);
            for (index_t t = 0; t < n; ++t) append_qs8<Arch>(k, v, b, h, t, slab, tokens_ + t);
            break;
        }
      }
    centered_ = true;
    tokens_ += n;
  }

  // Read access for the kernels (layouts in the class comment). `slab` = b * kv_heads + h.
  index_t padded_capacity() const noexcept { return padded_capacity_; }
  index_t key_groups() const noexcept { return key_groups_; }
  index_t value_dim() const noexcept { return value_dim_; }
  const float* key_f32(index_t slab) const noexcept { return f32_.data() + slab * padded_capacity_ * head_dim_; }
  const float* value_f32(index_t slab) const noexcept { return key_f32(slab) + slab_count() * padded_capacity_ * head_dim_; }
  const std::uint16_t* key_f16(index_t slab) const noexcept { return f16_.data() + slab * padded_capacity_ * head_dim_; }
  const std::uint16_t* value_f16(index_t slab) const noexcept {
    return key_f16(slab) + slab_count() * padded_capacity_ * head_dim_;
  }
  const std::int8_t* key_qs8(index_t slab) const noexcept { return keys_q_.data() + slab * padded_capacity_ * key_groups_ * 4; }
  const std::int8_t* value_qs8(index_t slab) const noexcept { return values_q_.data() + slab * padded_capacity_ * value_dim_; }
  /// Scales of token t's K / V at [t / scale_block()].
  const float* key_scales(index_t slab) const noexcept { return scales_.data() + slab * scale_slots(); }
  const float* value_scales(index_t slab) const noexcept { return scales_.data() + (slab_count() + slab) * scale_slots(); }
  const std::int32_t* key_sums(index_t slab) const noexcept { return key_sums_.data() + slab * padded_capacity_; }
  const float* key_centers(index_t slab) const noexcept { return centers_.data() + slab * head_dim_; }
  /// Per-channel key smoothing factors s[c] (1 unless options().smooth_keys): the cache holds
  /// (k - centre) / s and the query's channel c is multiplied by s[c].
  const float* key_channel_scales(index_t slab) const noexcept {
    return centers_.data() + (slab_count() + slab) * head_dim_;
  }

 private:
  index_t slab_count() const noexcept { return batch_ * kv_heads_; }
  index_t scale_slots() const noexcept { return padded_capacity_ / options_.scale_block; }
  float* key_f32(index_t slab) noexcept { return f32_.data() + slab * padded_capacity_ * head_dim_; }
  float* value_f32(index_t slab) noexcept { return key_f32(slab) + slab_count() * padded_capacity_ * head_dim_; }
  std::uint16_t* key_f16(index_t slab) noexcept { return f16_.data() + slab * padded_capacity_ * head_dim_; }
  std::uint16_t* value_f16(index_t slab) noexcept { return key_f16(slab) + slab_count() * padded_capacity_ * head_dim_; }

  std::size_t bytes_for(index_t tokens) const noexcept {
    if (storage_ != kv_storage::qs8) return static_cast<std::size_t>(slab_count() * tokens) * bytes_per_token();
    const index_t block = options_.scale_block, blocks = (tokens + block - 1) / block;
    const auto per_token = static_cast<std::size_t>(key_groups_ * 4 + value_dim_) + sizeof(std::int32_t);
    return static_cast<std::size_t>(slab_count()) *
           (static_cast<std::size_t>(tokens) * per_token + static_cast<std::size_t>(blocks) * 2 * sizeof(float));
  }

  template <class Arch>
  void set_center(const tensor_view<const float, 4>& k, index_t b, index_t h, index_t slab, index_t n) {
    float* center = centers_.data() + slab * head_dim_;
    float* smooth = centers_.data() + (slab_count() + slab) * head_dim_;
    double spread_sum = 0;
    for (index_t d = 0; d < head_dim_; ++d) {
      double sum = 0;
      if (options_.center_keys)
        for (index_t t = 0; t < n; ++t) sum += static_cast<double>(k(b, h, t, d));
      center[d] = static_cast<float>(sum / static_cast<double>(n));
      float spread = 0.0f;
      for (index_t t = 0; t < n; ++t) spread = std::max(spread, std::fabs(k(b, h, t, d) - center[d]));
      smooth[d] = spread;
      spread_sum += static_cast<double>(spread);
    }
    const float mean_spread = static_cast<float>(spread_sum / static_cast<double>(std::max<index_t>(head_dim_, 1)));
    for (index_t d = 0; d < head_dim_; ++d) {
      float s = 1.0f;
      if (options_.smooth_keys && mean_spread > 0.0f && smooth[d] > 0.0f)
        s = std::min(16.0f, std::max(1.0f / 16.0f, smooth[d] / mean_spread));
      smooth[d] = s;
    }
  }

  static float max_abs_of(const float* x, index_t n) noexcept {
    float m = 0.0f;
    for (index_t d = 0; d < n; ++d) m = std::max(m, std::fabs(x[d]));
    return m;
  }
  // Symmetric int8: q = round_half_even(x * 127 / max) in [-127, 127] (0 when max = 0).
  static std::int8_t quantize_value(float x, float inverse) noexcept {
    return static_cast<std::int8_t>(std::min(127.0f, std::max(-127.0f, std::nearbyint(x * inverse))));
  }
  static float inverse_of(float max_abs) noexcept { return max_abs > 0.0f ? 127.0f / max_abs : 0.0f; }

  // K row of `token` (centred, smoothed fp32 values) -> its tile slot and its key sum.
  void store_key(index_t slab, index_t token, const float* row_f32, float inverse) {
    // token -> tile token/16, slot token%16; channel d -> group d/4, byte d%4.
    std::int8_t* tile = keys_q_.data() + slab * padded_capacity_ * key_groups_ * 4 + (token / key_tile) * key_groups_ * 64 +
                        (token % key_tile) * 4;
    std::int8_t* row = row_scratch_.data();  // channel d at row[d], zero padded to key_groups * 4
    for (index_t d = 0; d < head_dim_; ++d) row[d] = quantize_value(row_f32[d], inverse);
    for (index_t d = head_dim_; d < key_groups_ * 4; ++d) row[d] = 0;
    std::int32_t key_sum = 0;
    for (index_t g = 0; g < key_groups_; ++g)
      for (index_t c = 0; c < 4; ++c) {
        tile[g * 64 + c] = row[g * 4 + c];
        key_sum += row[g * 4 + c];
      }
    key_sums_[static_cast<std::size_t>(slab * padded_capacity_ + token)] = key_sum;
  }
  // V row of `token` -> its group lane: token -> group token/4, lane token%4; channel d at [d][4].
  void store_value(index_t slab, index_t token, const float* row_f32, float inverse) {
    std::int8_t* group = values_q_.data() + slab * padded_capacity_ * value_dim_ + (token / value_group) * value_dim_ * 4 +
                         (token % value_group);
    for (index_t d = 0; d < head_dim_; ++d) group[d * 4] = quantize_value(row_f32[d], inverse);
  }

  template <class Arch>
  void append_qs8(const tensor_view<const float, 4>& k, const tensor_view<const float, 4>& v, index_t b, index_t h,
                  index_t t, index_t slab, index_t token) {
    const float* center = centers_.data() + slab * head_dim_;
    const float* smooth = centers_.data() + (slab_count() + slab) * head_dim_;
    const index_t block = options_.scale_block, slot = token % block, first = token - slot;
    // The open block's fp32 rows: K at rows[0 .. block), V after them.
    float* k_rows = open_rows_.data() + 2 * slab * (block * head_dim_ + 1);
    float* v_rows = k_rows + block * head_dim_ + 1;
    float* k_row = k_rows + slot * head_dim_;
    float* v_row = v_rows + slot * head_dim_;
    for (index_t d = 0; d < head_dim_; ++d) {
      k_row[d] = (k(b, h, t, d) - center[d]) / smooth[d];
      v_row[d] = v(b, h, t, d);
    }
    float& k_max = open_max_[static_cast<std::size_t>(2 * slab)];
    float& v_max = open_max_[static_cast<std::size_t>(2 * slab + 1)];
    if (slot == 0) k_max = v_max = 0.0f;
    // A new largest |x| requantizes the block's earlier rows (from fp32) with the new scale.
    const float k_new = std::max(k_max, max_abs_of(k_row, head_dim_));
    const float v_new = std::max(v_max, max_abs_of(v_row, head_dim_));
    const index_t k_from = k_new > k_max ? 0 : slot, v_from = v_new > v_max ? 0 : slot;
    k_max = k_new;
    v_max = v_new;
    for (index_t i = k_from; i <= slot; ++i) store_key(slab, first + i, k_rows + i * head_dim_, inverse_of(k_max));
    for (index_t i = v_from; i <= slot; ++i) store_value(slab, first + i, v_rows + i * head_dim_, inverse_of(v_max));
    scales_[static_cast<std::size_t>(slab * scale_slots() + token / block)] = k_max / 127.0f;
    scales_[static_cast<std::size_t>((slab_count() + slab) * scale_slots() + token / block)] = v_max / 127.0f;
  }

  index_t batch_ = 0, kv_heads_ = 0, capacity_ = 0, head_dim_ = 0, tokens_ = 0;
  index_t padded_capacity_ = 0, key_groups_ = 0, value_dim_ = 0;
  kv_storage storage_ = kv_storage::f32;
  kv_cache_options options_{};
  bool centered_ = false;
  detail::kv_cache_buffer<float> f32_;
  detail::kv_cache_buffer<std::uint16_t> f16_;
  detail::kv_cache_buffer<std::int8_t> keys_q_, values_q_;
  detail::kv_cache_buffer<float> scales_;
  detail::kv_cache_buffer<std::int32_t> key_sums_;
  detail::kv_cache_buffer<float> centers_;
  detail::kv_cache_buffer<std::int8_t> row_scratch_;
  detail::kv_cache_buffer<float> open_rows_, open_max_;
};

}  // namespace lightq
