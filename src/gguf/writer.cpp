// The GGUF v3 writer. The header is small and built in memory; tensor data is produced one
// tensor at a time by its callback into one reused buffer (the largest tensor's size), so
// peak memory is one tensor, not the model. The file is written under a temporary name,
// fsynced and renamed, so a crash or a full disk never leaves a half-written model under the
// final name.
#include "gguf/writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "gguf/reader.h"

namespace hearth::gguf {
namespace {

constexpr int kMaxArrayDepth = 16;  // the reader's limit: never write what we cannot read

template <class T>
void put(std::vector<uint8_t>& out, T v) {
  const size_t at = out.size();
  out.resize(at + sizeof(T));
  std::memcpy(out.data() + at, &v, sizeof(T));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

bool kind_matches(const Value& v) {
  switch (v.type) {
    case ValueType::kUint8: case ValueType::kUint16: case ValueType::kUint32: case ValueType::kUint64:
      return std::holds_alternative<uint64_t>(v.data);
    case ValueType::kInt8: case ValueType::kInt16: case ValueType::kInt32: case ValueType::kInt64:
      return std::holds_alternative<int64_t>(v.data);
    case ValueType::kFloat32: case ValueType::kFloat64: return std::holds_alternative<double>(v.data);
    case ValueType::kBool: return std::holds_alternative<bool>(v.data);
    case ValueType::kString: return std::holds_alternative<std::string>(v.data);
    case ValueType::kArray: {
      const auto* a = std::get_if<std::shared_ptr<Array>>(&v.data);
      return a != nullptr && *a != nullptr;
    }
  }
  return false;
}

// Serialises one value; an Error if its payload does not match its declared type, an integer
// does not fit its width, or an array's items are not all of its element type.
Status put_value(std::vector<uint8_t>& out, const Value& v, const std::string& where, int depth) {
  if (!kind_matches(v)) {
    return Error{fmt::format("{}: value does not hold a {}", where, value_type_name(v.type))};
  }
  auto fits = [&](auto lo, auto hi) -> Status {
    if (const auto* u = std::get_if<uint64_t>(&v.data); u && *u > static_cast<uint64_t>(hi))
      return Error{fmt::format("{}: {} does not fit {}", where, *u, value_type_name(v.type))};
    if (const auto* i = std::get_if<int64_t>(&v.data); i && (*i < lo || *i > hi))
      return Error{fmt::format("{}: {} does not fit {}", where, *i, value_type_name(v.type))};
    return {};
  };
  Status s;
  switch (v.type) {
    case ValueType::kUint8:
      if (!(s = fits(0, UINT8_MAX))) return s;
      put<uint8_t>(out, static_cast<uint8_t>(std::get<uint64_t>(v.data)));
      break;
    case ValueType::kInt8:
      if (!(s = fits(INT8_MIN, INT8_MAX))) return s;
      put<int8_t>(out, static_cast<int8_t>(std::get<int64_t>(v.data)));
      break;
    case ValueType::kUint16:
      if (!(s = fits(0, UINT16_MAX))) return s;
      put<uint16_t>(out, static_cast<uint16_t>(std::get<uint64_t>(v.data)));
      break;
    case ValueType::kInt16:
      if (!(s = fits(INT16_MIN, INT16_MAX))) return s;
      put<int16_t>(out, static_cast<int16_t>(std::get<int64_t>(v.data)));
      break;
    case ValueType::kUint32:
      if (!(s = fits(0, UINT32_MAX))) return s;
      put<uint32_t>(out, static_cast<uint32_t>(std::get<uint64_t>(v.data)));
      break;
    case ValueType::kInt32:
      if (!(s = fits(INT32_MIN, INT32_MAX))) return s;
      put<int32_t>(out, static_cast<int32_t>(std::get<int64_t>(v.data)));
      break;
    case ValueType::kUint64: put<uint64_t>(out, std::get<uint64_t>(v.data)); break;
    case ValueType::kInt64: put<int64_t>(out, std::get<int64_t>(v.data)); break;
    case ValueType::kFloat32: put<float>(out, static_cast<float>(std::get<double>(v.data))); break;
    case ValueType::kFloat64: put<double>(out, std::get<double>(v.data)); break;
    case ValueType::kBool: put<uint8_t>(out, std::get<bool>(v.data) ? 1 : 0); break;
    case ValueType::kString: put_string(out, std::get<std::string>(v.data)); break;
    case ValueType::kArray: {
      if (depth >= kMaxArrayDepth)
        return Error{fmt::format("{}: arrays nested deeper than {} levels", where, kMaxArrayDepth)};
      const Array& a = *std::get<std::shared_ptr<Array>>(v.data);
      put<uint32_t>(out, static_cast<uint32_t>(a.element_type));
      put<uint64_t>(out, a.items.size());
      for (size_t i = 0; i < a.items.size(); ++i) {
        const std::string item_where = fmt::format("{}[{}]", where, i);
        if (a.items[i].type != a.element_type) {
          return Error{fmt::format("{}: item is {} in an array of {}", item_where,
                                   value_type_name(a.items[i].type), value_type_name(a.element_type))};
        }
        if (!(s = put_value(out, a.items[i], item_where, depth + 1))) return s;
      }
      break;
    }
  }
  return {};
}

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

// An open file descriptor that unlinks its temporary file unless released.
class TempFile {
 public:
  TempFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  Status write_all(const uint8_t* data, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, data, std::min<size_t>(n, size_t{1} << 30));
      if (w < 0) {
        if (errno == EINTR) continue;
        return sys_error("write failed");
      }
      data += w;
      n -= static_cast<size_t>(w);
    }
    return {};
  }
  Status zeros(uint64_t n) {
    static constexpr uint8_t kZeros[256] = {};
    while (n > 0) {
      const size_t k = static_cast<size_t>(std::min<uint64_t>(n, sizeof(kZeros)));
      if (Status s = write_all(kZeros, k); !s) return s;
      n -= k;
    }
    return {};
  }
  Status finish(const std::filesystem::path& final_path) {
    if (::fsync(fd_) != 0) return sys_error("fsync failed");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return sys_error("close failed");
    if (::rename(path_.c_str(), final_path.c_str()) != 0) return sys_error("rename failed");
    committed_ = true;
    // Make the rename itself durable.
    std::filesystem::path dir = final_path.parent_path();
    if (dir.empty()) dir = ".";
    if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return {};
  }

 private:
  Error sys_error(const char* what) const {
    return Error{fmt::format("{}: {}: {}", path_.string(), what, std::strerror(errno))};
  }
  std::filesystem::path path_;
  int fd_;
  bool committed_ = false;
};

}  // namespace

void Writer::set(std::string key, Value value) {
  if (key == "general.alignment") {
    if (const auto a = value.as_u64()) alignment_ = *a;
  }
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void Writer::remove(std::string_view key) {
  if (key == "general.alignment") alignment_ = kDefaultAlignment;
  std::erase_if(metadata_, [&](const auto& kv) { return kv.first == key; });
}

void Writer::set_alignment(uint64_t alignment) {
  alignment_ = alignment;
  if (alignment == kDefaultAlignment) {
    std::erase_if(metadata_, [](const auto& kv) { return kv.first == "general.alignment"; });
  } else {
    set("general.alignment", Value::u32(static_cast<uint32_t>(alignment)));
    alignment_ = alignment;  // even if it does not fit u32: write() reports it
  }
}

Status Writer::add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                          TensorDataFn fill) {
  const TypeTraits* traits = type_traits(static_cast<uint32_t>(type));
  if (traits == nullptr) return Error{fmt::format("tensor \"{}\": unknown type", name)};
  for (const Tensor& t : tensors_) {
    if (t.name == name) return Error{fmt::format("tensor \"{}\": added twice", name)};
  }
  if (ne.empty() || ne.size() > static_cast<size_t>(kMaxDims)) {
    return Error{fmt::format("tensor \"{}\": {} dimensions, expected 1 to {}", name, ne.size(), kMaxDims)};
  }
  int64_t n = 1;
  for (int64_t d : ne) {
    if (d <= 0 || __builtin_mul_overflow(n, d, &n))
      return Error{fmt::format("tensor \"{}\": bad shape", name)};
  }
  if (ne[0] / traits->block_size > std::numeric_limits<int64_t>::max() / int64_t(traits->block_bytes))
    return Error{fmt::format("tensor \"{}\": byte size overflows", name)};
  const auto row = row_bytes(type, ne[0]);
  if (!row) {
    return Error{fmt::format("tensor \"{}\": row length {} is not whole {}-element blocks of {}", name,
                             ne[0], traits->block_size, traits->name)};
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(*row), static_cast<uint64_t>(n / ne[0]), &nbytes))
    return Error{fmt::format("tensor \"{}\": byte size overflows", name)};
  tensors_.push_back(Tensor{std::move(name), type, std::move(ne), nbytes, std::move(fill)});
  return {};
}

Status Writer::add_tensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                          std::span<const uint8_t> bytes) {
  auto copy = std::make_shared<std::vector<uint8_t>>(bytes.begin(), bytes.end());
  const std::string label = name;
  Status s = add_tensor(std::move(name), type, std::move(ne),
                        [copy, label](std::span<uint8_t> out) -> Status {
                          if (out.size() != copy->size()) {
                            return Error{fmt::format("tensor \"{}\": {} bytes given, {} needed", label,
                                                     copy->size(), out.size())};
                          }
                          std::memcpy(out.data(), copy->data(), out.size());
                          return {};
                        });
  if (s && tensors_.back().nbytes != bytes.size()) {
    const uint64_t need = tensors_.back().nbytes;
    tensors_.pop_back();
    return Error{fmt::format("tensor \"{}\": {} bytes given, the shape needs {}", label, bytes.size(), need)};
  }
  return s;
}

Status Writer::write(const std::filesystem::path& path) const {
  const uint64_t alignment = alignment_;
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > (uint64_t{1} << 30)) {
    return Error{fmt::format("{}: alignment {} is not a power of two up to 2^30", path.string(), alignment)};
  }
  std::vector<uint8_t> header;
  put<uint32_t>(header, kMagic);
  put<uint32_t>(header, 3);
  put<uint64_t>(header, tensors_.size());
  put<uint64_t>(header, metadata_.size());
  for (size_t i = 0; i < metadata_.size(); ++i) {
    const auto& [key, value] = metadata_[i];
    put_string(header, key);
    put<uint32_t>(header, static_cast<uint32_t>(value.type));
    if (Status s = put_value(header, value, fmt::format("{}: metadata \"{}\"", path.string(), key), 0); !s)
      return s;
  }
  std::vector<uint64_t> offsets;
  uint64_t data_size = 0;
  uint64_t largest = 0;
  for (const Tensor& t : tensors_) {
    put_string(header, t.name);
    put<uint32_t>(header, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put<uint64_t>(header, static_cast<uint64_t>(d));
    put<uint32_t>(header, static_cast<uint32_t>(t.type));
    put<uint64_t>(header, data_size);
    offsets.push_back(data_size);
    data_size = align_up(data_size + t.nbytes, alignment);
    largest = std::max(largest, t.nbytes);
  }
  header.resize(align_up(header.size(), alignment), 0);

  std::filesystem::path tmp = path;
  tmp += fmt::format(".tmp{}", static_cast<long>(::getpid()));
  int fd;
  do {
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return Error{fmt::format("{}: cannot create: {}", tmp.string(), std::strerror(errno))};
  TempFile out(tmp, fd);
  if (Status s = out.write_all(header.data(), header.size()); !s) return s;

  std::vector<uint8_t> buffer;
  try {
    buffer.resize(static_cast<size_t>(largest));
  } catch (const std::bad_alloc&) {
    return Error{fmt::format("{}: cannot allocate {} bytes for a tensor", path.string(), largest)};
  }
  for (const Tensor& t : tensors_) {
    std::span<uint8_t> chunk(buffer.data(), static_cast<size_t>(t.nbytes));
    if (Status s = t.fill(chunk); !s) {
      return Error{fmt::format("{}: tensor \"{}\": {}", path.string(), t.name, s.error().message)};
    }
    if (Status s = out.write_all(chunk.data(), chunk.size()); !s) return s;
    if (Status s = out.zeros(align_up(t.nbytes, alignment) - t.nbytes); !s) return s;
  }
  return out.finish(path);
}

}  // namespace hearth::gguf
