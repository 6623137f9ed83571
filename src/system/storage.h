// Where a file lives and how fast it reads: the block device behind it (microSD, USB, NVMe,
// SATA) from /sys/dev/block, and a sequential read of its first bytes with the page cache
// dropped first, so a model that was just loaded does not report RAM speed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/status.h"
#include "system/machine.h"

namespace hearth::system {

enum class StorageKind { kMicroSd, kUsb, kNvme, kSata, kVirtual, kOther, kNotBlock };
// "microSD/eMMC", "USB", "NVMe", ...
const char* storage_kind_name(StorageKind kind);

struct BlockDevice {
  std::string name;       // the whole disk: "mmcblk0", "sda", "nvme0n1"
  std::string partition;  // "mmcblk0p2"; empty when the file system sits on the whole disk
  StorageKind kind = StorageKind::kOther;
  std::optional<bool> removable, rotational;  // <disk>/removable, <disk>/queue/rotational
  std::string sys_path;   // the resolved /sys/devices/... folder of the disk
};

// The device numbers of the file system holding `file` (stat's st_dev).
struct DeviceNumber {
  unsigned major = 0, minor = 0;
};
Result<DeviceNumber> device_of(const std::filesystem::path& file);

// <sys>/dev/block/MAJ:MIN → the disk behind it. Major 0 (tmpfs, overlayfs, NFS, btrfs
// subvolumes) is no block device and gives kNotBlock; a missing entry is an Error naming it.
Result<BlockDevice> resolve_block_device(const SystemRoot& root, DeviceNumber dev);

struct ReadSpeed {
  uint64_t bytes = 0;
  double seconds = 0;
  bool cache_dropped = false;  // posix_fadvise(DONTNEED) succeeded: the read came from the device
  double mb_per_s() const { return seconds > 0 ? double(bytes) / 1e6 / seconds : 0; }
};
// Reads up to `max_bytes` of `file` sequentially in 1 MiB blocks, stopping after `max_seconds`;
// the page cache of the file is dropped first (pages another process has mapped stay cached).
Result<ReadSpeed> measure_read_speed(const std::filesystem::path& file, uint64_t max_bytes, double max_seconds);

}  // namespace hearth::system
