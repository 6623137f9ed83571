// The GGUF reader. Layout (all little endian; versions 2 and 3 share it, v3 only added a
// big-endian variant which we refuse):
//   magic u32 "GGUF" | version u32 | n_tensors u64 | n_kv u64
//   n_kv × { key: string, type: u32, value }       string = u64 length + bytes
//   n_tensors × { name: string, n_dims: u32, ne: u64 × n_dims, type: u32, offset: u64 }
//   padding to general.alignment (default 32), then the data section; offsets are from there.
// Nothing read from the file is trusted: every count is checked against the bytes that remain
// before anything is allocated for it, so a hostile header cannot make us allocate more than a
// small multiple of the file's own size.
#include "gguf/reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/mmap_file.h"

namespace hearth::gguf {
namespace {

// Real files nest arrays at most two deep; the limit keeps recursion bounded on hostile input.
constexpr int kMaxArrayDepth = 16;
// Smallest encodings, used to bound counts by the bytes remaining.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;               // empty key, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, 1 dim

uint64_t min_value_bytes(ValueType t) {
  switch (t) {
    case ValueType::kUint8: case ValueType::kInt8: case ValueType::kBool: return 1;
    case ValueType::kUint16: case ValueType::kInt16: return 2;
    case ValueType::kUint32: case ValueType::kInt32: case ValueType::kFloat32: return 4;
    case ValueType::kUint64: case ValueType::kInt64: case ValueType::kFloat64: return 8;
    case ValueType::kString: return 8;
    case ValueType::kArray: return 4 + 8;
  }
  return 1;
}

bool valid_value_type(uint32_t id) { return id <= static_cast<uint32_t>(ValueType::kFloat64); }

std::string quote_name(std::string_view s) {
  // Names come from the file: keep them printable and short in messages.
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 96; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  if (s.size() > 96) out += "...";
  return out + "\"";
}

// Where a value sits (`metadata[12] "tokenizer.ggml.tokens"[7]`), formatted only on error.
struct FieldPath {
  std::string base;
  std::vector<uint64_t> indices;

  std::string str(std::string_view leaf) const {
    std::string s = base;
    for (uint64_t i : indices) s += fmt::format("[{}]", i);
    if (!leaf.empty()) s += fmt::format(" {}", leaf);
    return s;
  }
};

class Parser {
 public:
  Parser(std::span<const uint8_t> bytes, const std::string& file) : bytes_(bytes), file_(file) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }
  bool failed() const { return error_.has_value(); }
  Error take_error() { return std::move(*error_); }

  // Records the first error: "<file>: <field> at byte <at>: <problem>".
  bool fail(const std::string& field, uint64_t at, const std::string& problem) {
    if (!error_) error_ = Error{fmt::format("{}: {} at byte {}: {}", file_, field, at, problem)};
    return false;
  }

  template <class T>
  bool read(T& out, const std::string_view field_name, const FieldPath* path = nullptr) {
    if (remaining() < sizeof(T)) {
      return fail(path ? path->str(field_name) : std::string(field_name), pos_,
                  fmt::format("file truncated: needs {} bytes, {} remain", sizeof(T), remaining()));
    }
    std::memcpy(&out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }

  bool read_string(std::string& out, const FieldPath& path, std::string_view what) {
    const uint64_t at = pos_;
    uint64_t length = 0;
    // The field name is only formatted on failure: token arrays hold 100k+ strings.
    if (remaining() < sizeof(length)) {
      return fail(path.str(fmt::format("{} length", what)), at,
                  fmt::format("file truncated: needs 8 bytes, {} remain", remaining()));
    }
    (void)read(length, "");
    if (length > remaining()) {
      return fail(path.str(fmt::format("{} length", what)), at,
                  fmt::format("string of {} bytes runs past the end of the file ({} bytes remain)",
                              length, remaining()));
    }
    out.assign(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<size_t>(length));
    pos_ += length;
    return true;
  }

  bool read_value(ValueType type, Value& out, const FieldPath& path, int depth) {
    out.type = type;
    switch (type) {
      case ValueType::kUint8: return read_int<uint8_t>(out, path);
      case ValueType::kInt8: return read_int<int8_t>(out, path);
      case ValueType::kUint16: return read_int<uint16_t>(out, path);
      case ValueType::kInt16: return read_int<int16_t>(out, path);
      case ValueType::kUint32: return read_int<uint32_t>(out, path);
      case ValueType::kInt32: return read_int<int32_t>(out, path);
      case ValueType::kUint64: return read_int<uint64_t>(out, path);
      case ValueType::kInt64: return read_int<int64_t>(out, path);
      case ValueType::kFloat32: {
        float f = 0;
        if (!read(f, "value", &path)) return false;
        out.data = double{f};
        return true;
      }
      case ValueType::kFloat64: {
        double d = 0;
        if (!read(d, "value", &path)) return false;
        out.data = d;
        return true;
      }
      case ValueType::kBool: {
        uint8_t b = 0;
        if (!read(b, "value", &path)) return false;
        out.data = b != 0;
        return true;
      }
      case ValueType::kString: {
        std::string s;
        if (!read_string(s, path, "string")) return false;
        out.data = std::move(s);
        return true;
      }
      case ValueType::kArray: return read_array(out, path, depth);
    }
    return fail(path.str("type"), pos_, "unknown value type");
  }

 private:
  template <class T>
  bool read_int(Value& out, const FieldPath& path) {
    T v{};
    if (!read(v, "value", &path)) return false;
    if constexpr (std::is_signed_v<T>) out.data = int64_t{v};
    else out.data = uint64_t{v};
    return true;
  }

  bool read_array(Value& out, const FieldPath& path, int depth) {
    if (depth >= kMaxArrayDepth) {
      return fail(path.str("array"), pos_,
                  fmt::format("arrays nested deeper than {} levels", kMaxArrayDepth));
    }
    const uint64_t type_at = pos_;
    uint32_t type_id = 0;
    if (!read(type_id, "array element type", &path)) return false;
    if (!valid_value_type(type_id))
      return fail(path.str("array element type"), type_at, fmt::format("unknown value type {}", type_id));
    const auto element_type = static_cast<ValueType>(type_id);
    const uint64_t count_at = pos_;
    uint64_t count = 0;
    if (!read(count, "array length", &path)) return false;
    const uint64_t min_bytes = min_value_bytes(element_type);
    if (count > remaining() / min_bytes) {
      return fail(path.str("array length"), count_at,
                  fmt::format("{} elements of {} need at least {} bytes each, only {} bytes remain",
                              count, value_type_name(element_type), min_bytes, remaining()));
    }
    auto array = std::make_shared<Array>();
    array->element_type = element_type;
    array->items.resize(static_cast<size_t>(count));
    FieldPath inner = path;
    inner.indices.push_back(0);
    for (uint64_t i = 0; i < count; ++i) {
      inner.indices.back() = i;
      if (!read_value(element_type, array->items[i], inner, depth + 1)) return false;
    }
    out.data = std::move(array);
    return true;
  }

  std::span<const uint8_t> bytes_;
  const std::string& file_;
  uint64_t pos_ = 0;
  std::optional<Error> error_;
};

// a·b and a+b for non-negative values, false on overflow past int64.
bool mul_i64(int64_t a, int64_t b, int64_t& out) { return !__builtin_mul_overflow(a, b, &out); }
bool add_u64(uint64_t a, uint64_t b, uint64_t& out) { return !__builtin_add_overflow(a, b, &out); }

}  // namespace

struct File::Impl {
  std::string name;
  MappedFile mapping;
  std::span<const uint8_t> bytes;
  uint32_t version = 0;
  uint64_t alignment = kDefaultAlignment;
  uint64_t data_offset = 0;
  std::vector<std::pair<std::string, Value>> metadata;
  std::unordered_map<std::string_view, size_t> key_index;
  std::vector<TensorInfo> tensors;
  std::unordered_map<std::string_view, size_t> tensor_index;

  Error key_error(std::string_view key, std::string_view problem) const {
    return Error{fmt::format("{}: metadata key {} {}", name, quote_name(key), problem)};
  }
};

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

File::File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

Result<File> File::open(const std::filesystem::path& path) {
  auto mapping = MappedFile::open(path);
  if (!mapping) return mapping.error();
  auto file = parse(mapping->bytes(), path.string());
  if (!file) return file.error();
  // The mapping's address does not change when it moves, so the parsed pointers stay valid.
  file->impl_->mapping = std::move(*mapping);
  return file;
}

const std::filesystem::path& File::path() const { return impl_->mapping.path(); }

Result<File> File::parse(std::span<const uint8_t> bytes, std::string display_name) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(display_name);
  impl->bytes = bytes;
  Parser p(bytes, impl->name);
  const std::string& file = impl->name;

  // ---- header
  if (bytes.size() < 4) {
    return Error{fmt::format("{}: magic at byte 0: file truncated: {} bytes, not a GGUF file",
                             file, bytes.size())};
  }
  uint32_t magic = 0;
  (void)p.read(magic, "magic");
  if (magic != kMagic) {
    return Error{fmt::format("{}: magic at byte 0: not a GGUF file (starts with {}, expected \"GGUF\")",
                             file, quote_name(std::string_view(reinterpret_cast<const char*>(bytes.data()), 4)))};
  }
  uint32_t version = 0;
  if (!p.read(version, "version")) return p.take_error();
  if (version == 1) {
    return Error{fmt::format("{}: version at byte 4: GGUF version 1 is not supported (it used 32-bit "
                             "lengths); convert the file again with a current tool", file)};
  }
  if (version != 2 && version != 3) {
    if (__builtin_bswap32(version) >= 1 && __builtin_bswap32(version) <= 3) {
      return Error{fmt::format("{}: version at byte 4: big-endian GGUF (version {}) is not supported",
                               file, __builtin_bswap32(version))};
    }
    return Error{fmt::format("{}: version at byte 4: unsupported GGUF version {} (2 and 3 are read)",
                             file, version)};
  }
  impl->version = version;
  uint64_t n_tensors = 0, n_kv = 0;
  if (!p.read(n_tensors, "tensor count") || !p.read(n_kv, "metadata count")) return p.take_error();
  if (n_kv > p.remaining() / kMinKvBytes) {
    return Error{fmt::format("{}: metadata count at byte 16: {} entries cannot fit in the {} bytes "
                             "that remain", file, n_kv, p.remaining())};
  }
  if (n_tensors > p.remaining() / kMinTensorInfoBytes ||
      n_kv * kMinKvBytes > p.remaining() - n_tensors * kMinTensorInfoBytes) {
    return Error{fmt::format("{}: tensor count at byte 8: {} tensors cannot fit in the {} bytes "
                             "that remain", file, n_tensors, p.remaining())};
  }

  // ---- metadata
  impl->metadata.reserve(static_cast<size_t>(n_kv));
  std::vector<uint64_t> value_at;
  value_at.reserve(static_cast<size_t>(n_kv));
  FieldPath path;
  for (uint64_t i = 0; i < n_kv; ++i) {
    path.base = fmt::format("metadata[{}]", i);
    std::string key;
    if (!p.read_string(key, path, "key")) return p.take_error();
    path.base = fmt::format("metadata[{}] {}", i, quote_name(key));
    const uint64_t type_at = p.pos();
    uint32_t type_id = 0;
    if (!p.read(type_id, "type", &path)) return p.take_error();
    if (!valid_value_type(type_id)) {
      p.fail(path.str("type"), type_at, fmt::format("unknown value type {}", type_id));
      return p.take_error();
    }
    value_at.push_back(p.pos());
    Value value;
    if (!p.read_value(static_cast<ValueType>(type_id), value, path, 0)) return p.take_error();
    impl->metadata.emplace_back(std::move(key), std::move(value));
  }
  // The index holds views of keys in `metadata`, which no longer grows.
  for (size_t i = 0; i < impl->metadata.size(); ++i) {
    const auto [it, inserted] = impl->key_index.emplace(impl->metadata[i].first, i);
    if (!inserted) {
      return Error{fmt::format("{}: metadata[{}] {} at byte {}: duplicate key (first at metadata[{}])",
                               file, i, quote_name(impl->metadata[i].first), value_at[i], it->second)};
    }
  }
  if (auto it = impl->key_index.find("general.alignment"); it != impl->key_index.end()) {
    const Value& v = impl->metadata[it->second].second;
    const auto a = v.as_u64();
    if (!a || *a == 0 || (*a & (*a - 1)) != 0 || *a > (uint64_t{1} << 30)) {
      return Error{fmt::format("{}: metadata[{}] \"general.alignment\" at byte {}: must be a power of "
                               "two between 1 and 2^30, found {}", file, it->second,
                               value_at[it->second],
                               v.as_u64()   ? fmt::format("{}", *v.as_u64())
                               : v.as_i64() ? fmt::format("{}", *v.as_i64())
                                            : std::string(value_type_name(v.type)))};
    }
    impl->alignment = *a;
  }

  // ---- tensor infos
  impl->tensors.reserve(static_cast<size_t>(n_tensors));
  std::vector<uint64_t> offset_at, name_at;
  offset_at.reserve(static_cast<size_t>(n_tensors));
  name_at.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    path.base = fmt::format("tensor[{}]", i);
    TensorInfo t{};
    name_at.push_back(p.pos());
    if (!p.read_string(t.name, path, "name")) return p.take_error();
    path.base = fmt::format("tensor[{}] {}", i, quote_name(t.name));
    const uint64_t dims_at = p.pos();
    uint32_t n_dims = 0;
    if (!p.read(n_dims, "dimension count", &path)) return p.take_error();
    if (n_dims == 0 || n_dims > static_cast<uint32_t>(kMaxDims)) {
      p.fail(path.str("dimension count"), dims_at,
             fmt::format("{} dimensions, expected 1 to {}", n_dims, kMaxDims));
      return p.take_error();
    }
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t at = p.pos();
      uint64_t n = 0;
      if (!p.read(n, fmt::format("ne[{}]", d), &path)) return p.take_error();
      if (n == 0 || n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        p.fail(path.str(fmt::format("ne[{}]", d)), at,
               fmt::format("dimension {} is not a positive 63-bit size", n));
        return p.take_error();
      }
      if (!mul_i64(n_elements, static_cast<int64_t>(n), n_elements)) {
        p.fail(path.str(fmt::format("ne[{}]", d)), at, "element count overflows 64 bits");
        return p.take_error();
      }
      t.ne.push_back(static_cast<int64_t>(n));
    }
    const uint64_t type_at = p.pos();
    uint32_t type_id = 0;
    if (!p.read(type_id, "type", &path)) return p.take_error();
    const TypeTraits* traits = type_traits(type_id);
    if (traits == nullptr) {
      p.fail(path.str("type"), type_at, fmt::format("unknown tensor type id {}", type_id));
      return p.take_error();
    }
    t.type = traits->type;
    // row_bytes() multiplies in size_t without a check: keep its product below 2^63 first.
    if (t.ne[0] / traits->block_size >
        std::numeric_limits<int64_t>::max() / static_cast<int64_t>(traits->block_bytes)) {
      p.fail(path.str("type"), type_at, "byte size overflows 64 bits");
      return p.take_error();
    }
    const auto row = row_bytes(t.type, t.ne[0]);
    if (!row) {
      p.fail(path.str("ne[0]"), dims_at + 4,
             fmt::format("row length {} is not a whole number of {}-element {} blocks", t.ne[0],
                         traits->block_size, traits->name));
      return p.take_error();
    }
    const int64_t rows = n_elements / t.ne[0];
    int64_t nbytes = 0;
    if (*row > static_cast<size_t>(std::numeric_limits<int64_t>::max()) ||
        !mul_i64(static_cast<int64_t>(*row), rows, nbytes)) {
      p.fail(path.str("type"), type_at, "byte size overflows 64 bits");
      return p.take_error();
    }
    t.nbytes = static_cast<uint64_t>(nbytes);
    offset_at.push_back(p.pos());
    if (!p.read(t.offset, "offset", &path)) return p.take_error();
    if (t.offset % impl->alignment != 0) {
      p.fail(path.str("offset"), offset_at.back(),
             fmt::format("offset {} is not a multiple of the alignment {}", t.offset, impl->alignment));
      return p.take_error();
    }
    impl->tensors.push_back(std::move(t));
  }
  for (size_t i = 0; i < impl->tensors.size(); ++i) {
    const auto [it, inserted] = impl->tensor_index.emplace(impl->tensors[i].name, i);
    if (!inserted) {
      return Error{fmt::format("{}: tensor[{}] {} name at byte {}: duplicate tensor name (first at tensor[{}])",
                               file, i, quote_name(impl->tensors[i].name), name_at[i], it->second)};
    }
  }

  // ---- data section
  const uint64_t header_end = p.pos();
  uint64_t data_offset = 0;
  if (!add_u64(header_end, impl->alignment - 1, data_offset)) {
    return Error{fmt::format("{}: data section at byte {}: offset overflows", file, header_end)};
  }
  data_offset -= data_offset % impl->alignment;
  impl->data_offset = data_offset;
  const uint64_t size = bytes.size();
  if (!impl->tensors.empty() && data_offset > size) {
    return Error{fmt::format("{}: data section at byte {}: file truncated: the data section starts at "
                             "byte {} but the file has {} bytes", file, header_end, data_offset, size)};
  }
  const uint64_t data_size = data_offset <= size ? size - data_offset : 0;
  for (size_t i = 0; i < impl->tensors.size(); ++i) {
    TensorInfo& t = impl->tensors[i];
    if (t.offset > data_size || t.nbytes > data_size - t.offset) {
      return Error{fmt::format("{}: tensor[{}] {} offset at byte {}: data [{}, +{}) runs past the end of "
                               "the data section ({} bytes; file truncated?)", file, i, quote_name(t.name),
                               offset_at[i], t.offset, t.nbytes, data_size)};
    }
    t.data = bytes.data() + data_offset + t.offset;
  }
  std::vector<size_t> order(impl->tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return impl->tensors[a].offset < impl->tensors[b].offset;
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& prev = impl->tensors[order[k - 1]];
    const TensorInfo& cur = impl->tensors[order[k]];
    if (prev.offset + prev.nbytes > cur.offset) {
      return Error{fmt::format("{}: tensor[{}] {} offset at byte {}: data [{}, +{}) overlaps tensor[{}] {} "
                               "[{}, +{})", file, order[k], quote_name(cur.name), offset_at[order[k]],
                               cur.offset, cur.nbytes, order[k - 1], quote_name(prev.name), prev.offset,
                               prev.nbytes)};
    }
  }
  return File(std::move(impl));
}

const std::string& File::name() const { return impl_->name; }
uint32_t File::version() const { return impl_->version; }
uint64_t File::alignment() const { return impl_->alignment; }
uint64_t File::data_offset() const { return impl_->data_offset; }
uint64_t File::size() const { return impl_->bytes.size(); }
std::span<const uint8_t> File::bytes() const { return impl_->bytes; }

const std::vector<std::pair<std::string, Value>>& File::metadata() const { return impl_->metadata; }

const Value* File::find(std::string_view key) const {
  const auto it = impl_->key_index.find(key);
  return it == impl_->key_index.end() ? nullptr : &impl_->metadata[it->second].second;
}

Result<std::string> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return impl_->key_error(key, "is absent");
  if (const std::string* s = v->as_string()) return *s;
  return impl_->key_error(key, fmt::format("is {}, expected string", value_type_name(v->type)));
}

Result<uint64_t> File::get_uint(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return impl_->key_error(key, "is absent");
  if (const auto u = v->as_u64()) return *u;
  return impl_->key_error(key, fmt::format("is {}, expected a non-negative integer",
                                           value_type_name(v->type)));
}

Result<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return impl_->key_error(key, "is absent");
  if (const auto d = v->as_f64()) return *d;
  return impl_->key_error(key, fmt::format("is {}, expected a number", value_type_name(v->type)));
}

Result<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return impl_->key_error(key, "is absent");
  if (const auto b = v->as_bool()) return *b;
  return impl_->key_error(key, fmt::format("is {}, expected bool", value_type_name(v->type)));
}

Result<const Array*> File::get_array(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return impl_->key_error(key, "is absent");
  if (const Array* a = v->as_array()) return a;
  return impl_->key_error(key, fmt::format("is {}, expected array", value_type_name(v->type)));
}

const std::vector<TensorInfo>& File::tensors() const { return impl_->tensors; }

const TensorInfo* File::find_tensor(std::string_view name) const {
  const auto it = impl_->tensor_index.find(name);
  return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

}  // namespace hearth::gguf
