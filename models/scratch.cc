#include "models/internal/scratch.h"

#include <array>
#include <vector>

namespace tacit::internal {

torch::Tensor ScratchTensor(Scratch slot, at::IntArrayRef sizes) {
  thread_local std::array<std::vector<float>, static_cast<size_t>(Scratch::kCount)> buffers;
  std::vector<float>& buffer = buffers[static_cast<size_t>(slot)];
  int64_t numel = 1;
  for (int64_t size : sizes) numel *= size;
  if (buffer.size() < static_cast<size_t>(numel)) buffer.resize(static_cast<size_t>(numel));
  return torch::from_blob(buffer.data(), sizes, torch::kFloat);
}

}  // namespace tacit::internal
