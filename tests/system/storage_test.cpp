// The block device behind a file, resolved through a fixture /sys/dev/block as the kernel lays
// it out, and the read-speed measurement (its numbers are the machine's: only its shape is
// checked, never a time).
#include "system/storage.h"

#include <gtest/gtest.h>

#include <fstream>

#include "system/fixtures.h"

namespace hearth::system {
namespace {

using test::FixtureTree;

TEST(SystemStorage, MicroSdPartition) {
  FixtureTree t("sd");
  // /sys/dev/block/179:2 -> ../../devices/platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0/mmcblk0p2
  const std::string disk = "sys/devices/platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0";
  t.write(disk + "/mmcblk0p2/partition", "2\n");
  t.write(disk + "/removable", "0\n");
  t.write(disk + "/queue/rotational", "0\n");
  t.link("sys/dev/block/179:2", "../../devices/platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0/mmcblk0p2");
  const Result<BlockDevice> b = resolve_block_device(t.root(), {179, 2});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->kind, StorageKind::kMicroSd);
  EXPECT_EQ(b->name, "mmcblk0");
  EXPECT_EQ(b->partition, "mmcblk0p2");
  EXPECT_EQ(b->removable, false);
  EXPECT_EQ(b->rotational, false);
}

TEST(SystemStorage, UsbSsdAndNvmeAndNoBlockDevice) {
  FixtureTree t("usb");
  const std::string usb = "sys/devices/platform/scb/fd500000.pcie/pci0000:00/0000:00:00.0/0000:01:00.0/usb2/2-2/"
                          "2-2:1.0/host0/target0:0:0/0:0:0:0/block/sda";
  t.write(usb + "/sda1/partition", "1\n");
  t.write(usb + "/removable", "0\n");
  t.write(usb + "/queue/rotational", "0\n");
  t.link("sys/dev/block/8:1", "../../" + usb.substr(4) + "/sda1");
  Result<BlockDevice> b = resolve_block_device(t.root(), {8, 1});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->kind, StorageKind::kUsb);
  EXPECT_EQ(b->name, "sda");

  const std::string nvme = "sys/devices/platform/axi/1000110000.pcie/pci0001:00/0001:00:00.0/0001:01:00.0/nvme/nvme0/nvme0n1";
  t.write(nvme + "/queue/rotational", "0\n");
  t.write(nvme + "/removable", "0\n");
  t.link("sys/dev/block/259:0", "../../" + nvme.substr(4));  // the whole disk: no partition
  b = resolve_block_device(t.root(), {259, 0});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->kind, StorageKind::kNvme);
  EXPECT_EQ(b->name, "nvme0n1");
  EXPECT_TRUE(b->partition.empty());

  b = resolve_block_device(t.root(), {0, 45});  // tmpfs, overlayfs
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->kind, StorageKind::kNotBlock);

  b = resolve_block_device(t.root(), {8, 17});
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("dev/block/8:17"), std::string::npos) << b.error().message;
}

TEST(SystemStorage, ReadSpeedReadsTheFile) {
  FixtureTree t("speed");
  t.write("model.gguf", std::string(3 << 20, 'x'));
  Result<ReadSpeed> r = measure_read_speed(t.path() / "model.gguf", 2 << 20, 60);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->bytes, uint64_t(2 << 20));  // stops at the byte budget
  r = measure_read_speed(t.path() / "model.gguf", 64 << 20, 60);
  EXPECT_EQ(r->bytes, uint64_t(3 << 20));  // or at the end of the file
  EXPECT_FALSE(measure_read_speed(t.path() / "absent.gguf", 1, 1).ok());
  const Result<DeviceNumber> dev = device_of(t.path() / "model.gguf");
  EXPECT_TRUE(dev.ok());
  EXPECT_FALSE(device_of(t.path() / "absent.gguf").ok());
}

}  // namespace
}  // namespace hearth::system
