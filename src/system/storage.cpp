#include "system/storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <vector>

#include <fmt/format.h>

namespace hearth::system {
namespace fs = std::filesystem;

const char* storage_kind_name(StorageKind kind) {
  switch (kind) {
    case StorageKind::kMicroSd: return "microSD/eMMC";
    case StorageKind::kUsb: return "USB";
    case StorageKind::kNvme: return "NVMe";
    case StorageKind::kSata: return "SATA/SCSI";
    case StorageKind::kVirtual: return "virtual disk";
    case StorageKind::kOther: return "other block device";
    case StorageKind::kNotBlock: return "no block device";
  }
  return "?";
}

Result<DeviceNumber> device_of(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return Error{fmt::format("{}: {}", file.string(), std::strerror(errno))};
  return DeviceNumber{major(st.st_dev), minor(st.st_dev)};
}

Result<BlockDevice> resolve_block_device(const SystemRoot& root, DeviceNumber dev) {
  BlockDevice b;
  if (dev.major == 0) {
    b.kind = StorageKind::kNotBlock;
    return b;
  }
  const fs::path entry = root.sys() / "dev" / "block" / fmt::format("{}:{}", dev.major, dev.minor);
  std::error_code ec;
  // The entry is a symlink into /sys/devices/.../block/<disk>[/<partition>]; canonical resolves
  // it inside the same root, so a fixture tree's relative links work as the kernel's do.
  fs::path dir = fs::canonical(entry, ec);
  if (ec) return Error{fmt::format("{}: {}", entry.string(), ec.message())};
  if (fs::exists(dir / "partition", ec)) {
    b.partition = dir.filename().string();
    dir = dir.parent_path();
  }
  b.name = dir.filename().string();
  b.sys_path = dir.string();
  const auto flag = [](const fs::path& f) -> std::optional<bool> {
    const auto line = read_line(f);
    if (line && (*line == "0" || *line == "1")) return *line == "1";
    return std::nullopt;
  };
  b.removable = flag(dir / "removable");
  b.rotational = flag(dir / "queue" / "rotational");
  const std::string path = dir.string();
  if (b.name.rfind("mmcblk", 0) == 0) b.kind = StorageKind::kMicroSd;
  else if (b.name.rfind("nvme", 0) == 0) b.kind = StorageKind::kNvme;
  else if (path.find("/usb") != std::string::npos) b.kind = StorageKind::kUsb;
  else if (b.name.rfind("sd", 0) == 0) b.kind = StorageKind::kSata;
  else if (b.name.rfind("vd", 0) == 0 || b.name.rfind("xvd", 0) == 0) b.kind = StorageKind::kVirtual;
  else b.kind = StorageKind::kOther;
  return b;
}

Result<ReadSpeed> measure_read_speed(const fs::path& file, uint64_t max_bytes, double max_seconds) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{fmt::format("{}: {}", file.string(), std::strerror(errno))};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  ReadSpeed r;
  // Drop what the cache holds of the file, else a model read a minute ago reads at RAM speed.
  r.cache_dropped = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::vector<char> buf(1 << 20);
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  while (r.bytes < max_bytes) {
    const size_t want = size_t(std::min<uint64_t>(buf.size(), max_bytes - r.bytes));
    const ssize_t n = ::read(fd, buf.data(), want);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{fmt::format("{}: read failed: {}", file.string(), std::strerror(errno))};
    }
    if (n == 0) break;
    r.bytes += uint64_t(n);
    if (elapsed() >= max_seconds) break;
  }
  r.seconds = elapsed();
  return r;
}

}  // namespace hearth::system
