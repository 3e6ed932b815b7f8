#include "common/byte_size.h"

#include <gtest/gtest.h>

namespace tacit {
namespace {

TEST(FormatByteSize, BinaryUnitsWithOneDecimal) {
  EXPECT_EQ(FormatByteSize(0), "0 B");
  EXPECT_EQ(FormatByteSize(1023), "1023 B");
  EXPECT_EQ(FormatByteSize(1024), "1.0 KiB");
  EXPECT_EQ(FormatByteSize(1536), "1.5 KiB");
  EXPECT_EQ(FormatByteSize(int64_t{5} << 20), "5.0 MiB");
  EXPECT_EQ(FormatByteSize(int64_t{3} << 30), "3.0 GiB");
  EXPECT_EQ(FormatByteSize(int64_t{2} << 40), "2.0 TiB");
  EXPECT_EQ(FormatByteSize(int64_t{4096} << 40), "4096.0 TiB");
}

}  // namespace
}  // namespace tacit
