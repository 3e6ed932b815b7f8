#include "common/file_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/status_macros.h"
#include "gtest/gtest.h"

namespace tacit {
namespace {

std::string TempDir() {
  char pattern[] = "/tmp/tacit_common_test_XXXXXX";
  char* dir = ::mkdtemp(pattern);
  return dir != nullptr ? dir : "/tmp";
}

TEST(FileIo, AtomicWriteThenReadRoundTrips) {
  std::string path = TempDir() + "/nested/dir/file.bin";
  ASSERT_TRUE(MakeDirectories(path.substr(0, path.rfind('/'))).ok());
  std::string payload("a\0b\xff", 4);
  ASSERT_TRUE(WriteFileAtomically(path, payload, 0600).ok());
  auto read = ReadFileToString(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, payload);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Overwrite replaces the whole file and leaves no temporary behind.
  ASSERT_TRUE(WriteFileAtomically(path, "new").ok());
  EXPECT_EQ(*ReadFileToString(path), "new");
  EXPECT_NE(::access((path + ".tmp." + std::to_string(::getpid())).c_str(), F_OK), 0);
}

TEST(FileIo, MissingFileIsNotFound) {
  auto read = ReadFileToString("/nonexistent/tacit/file");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find("/nonexistent/tacit/file"), std::string::npos);
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  TACIT_ASSIGN_OR_RETURN(int half, Half(x));
  TACIT_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusMacros, PropagateErrorsAndValues) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tacit
