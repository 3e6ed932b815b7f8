#pragma once

#include <cstdint>
#include <string>

namespace tacit {

// A byte count for people: "512 B", "3.4 KiB", "1.2 MiB", "2.0 GiB" (binary
// units, one decimal).
std::string FormatByteSize(int64_t bytes);

}  // namespace tacit
