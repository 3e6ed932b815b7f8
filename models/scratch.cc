#include "models/internal/scratch.h"

#include <array>
#include <vector>

namespace tacit::internal {

namespace {

std::array<std::vector<float>, static_cast<size_t>(Scratch::kCount)>& Buffers() {
  thread_local std::array<std::vector<float>, static_cast<size_t>(Scratch::kCount)> buffers;
  return buffers;
}

}  // namespace

torch::Tensor ScratchTensor(Scratch slot, at::IntArrayRef sizes) {
  std::vector<float>& buffer = Buffers()[static_cast<size_t>(slot)];
  int64_t numel = 1;
  for (int64_t size : sizes) numel *= size;
  if (buffer.size() < static_cast<size_t>(numel)) buffer.resize(static_cast<size_t>(numel));
  return torch::from_blob(buffer.data(), sizes, torch::kFloat);
}

void ReleaseScratch() {
  for (std::vector<float>& buffer : Buffers()) std::vector<float>().swap(buffer);
}

}  // namespace tacit::internal
