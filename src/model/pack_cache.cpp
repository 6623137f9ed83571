// See pack_cache.h.
//
// File layout (little-endian, as everything hearth maps):
//   header   char magic[8] "HEARTHPK", uint32 version, uint32 n_entries, uint8 key[32]
//   entries  n × {uint32 type, uint32 0, int64 ne0, int64 nrows, uint64 source_offset,
//                 uint64 data_offset, uint64 bytes}
//   data     each entry's packed bytes at a page-aligned data_offset
#include "model/pack_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>

#include "core/sha256.h"

namespace hearth::pack_cache {
namespace {

constexpr char kMagic[8] = {'H', 'E', 'A', 'R', 'T', 'H', 'P', 'K'};
// Bump when the file layout or any packed layout (kernels/repack.h) changes.
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 48;
constexpr size_t kEntryBytes = 48;
constexpr size_t kAlign = 4096;

struct RawEntry {
  uint32_t type;
  uint32_t zero;
  int64_t ne0;
  int64_t nrows;
  uint64_t source_offset;
  uint64_t data_offset;
  uint64_t bytes;
};
static_assert(sizeof(RawEntry) == kEntryBytes);

uint64_t align_up(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

// Where each entry's data goes: after the header and entry table, page-aligned.
std::vector<uint64_t> data_offsets(std::span<const Entry> entries) {
  std::vector<uint64_t> at;
  uint64_t pos = align_up(kHeaderBytes + kEntryBytes * entries.size());
  for (const Entry& e : entries) {
    at.push_back(pos);
    pos = align_up(pos + e.bytes);
  }
  return at;
}

std::filesystem::path entry_path(const std::filesystem::path& dir, const std::string& key) {
  return dir / (key + ".hpk");
}

std::array<uint8_t, 32> key_bytes(const std::string& hex) {
  std::array<uint8_t, 32> out{};
  for (size_t i = 0; i < out.size() && 2 * i + 1 < hex.size(); ++i)
    out[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return out;
}

uint64_t budget_bytes() {
  double gb = 8.0;
  if (const char* env = std::getenv("HEARTH_PACK_CACHE_GB"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end != env && *end == '\0' && v >= 0.0) gb = v;
  }
  return static_cast<uint64_t>(gb * 1024.0 * 1024.0 * 1024.0);
}

// Deletes the least recently used entries (by modification time, which a hit refreshes)
// beyond the budget, never `keep`; and temporary files a crashed writer left an hour ago.
void trim(const std::filesystem::path& dir, const std::filesystem::path& keep) {
  namespace fs = std::filesystem;
  std::error_code ec;
  struct Item {
    fs::path path;
    fs::file_time_type time;
    uint64_t size;
  };
  std::vector<Item> items;
  uint64_t total = 0;
  const auto now = fs::file_time_type::clock::now();
  for (const fs::directory_entry& d : fs::directory_iterator(dir, ec)) {
    const fs::path& p = d.path();
    const auto time = d.last_write_time(ec);
    if (ec) continue;
    if (p.filename().string().find(".hpk.tmp") != std::string::npos) {
      if (now - time > std::chrono::hours(1)) fs::remove(p, ec);
      continue;
    }
    if (p.extension() != ".hpk") continue;
    const uint64_t size = d.file_size(ec);
    if (ec) continue;
    items.push_back({p, time, size});
    total += size;
  }
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.time < b.time; });
  const uint64_t budget = budget_bytes();
  for (const Item& it : items) {
    if (total <= budget) break;
    if (it.path == keep) continue;
    if (fs::remove(it.path, ec)) total -= it.size;
  }
}

Status write_all(int fd, const void* data, size_t n, uint64_t offset, const std::string& path) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w =
        ::pwrite(fd, p, std::min<size_t>(n, size_t{1} << 26), static_cast<off_t>(offset));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Error{path + ": cannot write: " + std::strerror(w < 0 ? errno : EIO)};
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return {};
}

// Reads exactly n bytes at offset; false on an error or a file that ends first.
bool read_exact(int fd, void* dst, uint64_t n, uint64_t offset) {
  auto* p = static_cast<uint8_t*>(dst);
  while (n > 0) {
    const ssize_t r =
        ::pread(fd, p, std::min<uint64_t>(n, uint64_t{1} << 26), static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<uint64_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

}  // namespace

std::optional<std::filesystem::path> directory() {
  if (const char* env = std::getenv("HEARTH_PACK_CACHE"); env != nullptr && *env != '\0') {
    if (std::strcmp(env, "0") == 0 || std::strcmp(env, "off") == 0) return std::nullopt;
    return std::filesystem::path(env);
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/')
    return std::filesystem::path(xdg) / "hearth" / "packed";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/')
    return std::filesystem::path(home) / ".cache" / "hearth" / "packed";
  return std::nullopt;
}

std::optional<std::string> key(const gguf::File& file, std::span<const Entry> entries) {
  const std::filesystem::path& path = file.path();
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
  if (static_cast<uint64_t>(st.st_size) != file.size()) return std::nullopt;
  Sha256 h;
  auto add = [&h](const auto& v) {
    h.update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&v), sizeof(v)));
  };
  h.update("hearth packed weights");
  add(kVersion);
  add(static_cast<uint64_t>(st.st_dev));
  add(static_cast<uint64_t>(st.st_ino));
  add(static_cast<uint64_t>(st.st_size));
  add(static_cast<int64_t>(st.st_mtim.tv_sec));
  add(static_cast<int64_t>(st.st_mtim.tv_nsec));
  // The header (metadata and tensor table): a file rewritten within one mtime tick still
  // differs here unless only tensor bytes changed.
  h.update(file.bytes().first(std::min<size_t>(file.data_offset(), file.bytes().size())));
  for (const Entry& e : entries) {
    add(static_cast<uint32_t>(e.type));
    add(e.ne0);
    add(e.nrows);
    add(e.source_offset);
    add(e.bytes);
  }
  return h.finish_hex();
}

std::optional<Reader> Reader::open(const std::filesystem::path& dir, const std::string& key,
                                   std::span<const Entry> entries) {
  const std::filesystem::path path = entry_path(dir, key);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  Reader reader(fd, path, {});  // closes fd on every early return
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::nullopt;
  const auto size = static_cast<uint64_t>(st.st_size);
  std::vector<uint8_t> head(kHeaderBytes + kEntryBytes * entries.size());
  if (size < head.size() || !read_exact(fd, head.data(), head.size(), 0)) return std::nullopt;
  uint32_t version = 0, n = 0;
  std::memcpy(&version, head.data() + 8, 4);
  std::memcpy(&n, head.data() + 12, 4);
  const std::array<uint8_t, 32> want_key = key_bytes(key);
  if (std::memcmp(head.data(), kMagic, 8) != 0 || version != kVersion || n != entries.size() ||
      std::memcmp(head.data() + 16, want_key.data(), 32) != 0)
    return std::nullopt;
  for (size_t i = 0; i < entries.size(); ++i) {
    RawEntry r;
    std::memcpy(&r, head.data() + kHeaderBytes + kEntryBytes * i, kEntryBytes);
    const Entry& e = entries[i];
    if (r.type != static_cast<uint32_t>(e.type) || r.ne0 != e.ne0 || r.nrows != e.nrows ||
        r.source_offset != e.source_offset || r.bytes != e.bytes || r.data_offset > size ||
        size - r.data_offset < r.bytes)
      return std::nullopt;
    reader.offsets_.push_back(r.data_offset);
  }
  ::futimens(fd, nullptr);  // most recently used, for the trim; advice, so unchecked
  return reader;
}

Reader::Reader(Reader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      offsets_(std::move(other.offsets_)) {}

Reader::~Reader() {
  if (fd_ >= 0) ::close(fd_);
}

Status Reader::read(size_t i, uint64_t begin, uint64_t n, void* dst) const {
  if (!read_exact(fd_, dst, n, offsets_.at(i) + begin))
    return Error{path_.string() + ": cannot read entry " + std::to_string(i) + " at offset " +
                 std::to_string(offsets_.at(i) + begin)};
  return {};
}

Status write(const std::filesystem::path& dir, const std::string& key,
             std::span<const Entry> entries, std::span<const void* const> data) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{dir.string() + ": cannot create: " + ec.message()};
  const std::filesystem::path final_path = entry_path(dir, key);
  const std::filesystem::path tmp =
      dir / (key + ".hpk.tmp." + std::to_string(static_cast<long>(::getpid())));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error{tmp.string() + ": cannot create: " + std::strerror(errno)};
  auto fail = [&](Status s) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };

  const std::vector<uint64_t> at = data_offsets(entries);
  std::vector<uint8_t> head(kHeaderBytes + kEntryBytes * entries.size(), 0);
  std::memcpy(head.data(), kMagic, 8);
  const uint32_t n = static_cast<uint32_t>(entries.size());
  std::memcpy(head.data() + 8, &kVersion, 4);
  std::memcpy(head.data() + 12, &n, 4);
  const std::array<uint8_t, 32> kb = key_bytes(key);
  std::memcpy(head.data() + 16, kb.data(), 32);
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const RawEntry r{static_cast<uint32_t>(e.type), 0, e.ne0, e.nrows, e.source_offset, at[i],
                     e.bytes};
    std::memcpy(head.data() + kHeaderBytes + kEntryBytes * i, &r, kEntryBytes);
  }
  // Free space first: a full disk would fail mid-write anyway, and the budget bounds us.
  const uint64_t total = entries.empty() ? head.size() : at.back() + entries.back().bytes;
  const std::filesystem::space_info space = std::filesystem::space(dir, ec);
  if (!ec && space.available < total + (uint64_t{1} << 30))
    return fail(Error{dir.string() + ": less than 1 GiB would be left free; not caching"});
  for (size_t i = 0; i < entries.size(); ++i)
    if (Status s = write_all(fd, data[i], entries[i].bytes, at[i], tmp.string()); !s)
      return fail(s);
  // The header last: a file cut short by a crash before the rename has no valid header.
  if (Status s = write_all(fd, head.data(), head.size(), 0, tmp.string()); !s) return fail(s);
  if (::ftruncate(fd, static_cast<off_t>(total)) != 0 || ::fsync(fd) != 0)
    return fail(Error{tmp.string() + ": cannot flush: " + std::strerror(errno)});
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return Error{final_path.string() + ": cannot rename into place: " + std::strerror(err)};
  }
  trim(dir, final_path);
  return {};
}

}  // namespace hearth::pack_cache
