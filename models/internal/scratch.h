#pragma once

// PRIVATE to models/ (LibTorch inside).
//
// The GRU's largest temporaries (the input-side gate pre-activations and the
// two gate-gradient buffers, 6 MiB each at batch 32) reused by each thread
// from step to step instead of being allocated and freed every step. Freed
// blocks of that size left holes in glibc's heap that later allocations did
// not fit, and the peak RSS of a step varied by 40 MiB from run to run
// (190-228 MiB at batch 32), across the 200 MiB budget. (The head's 4 MiB
// logits chunk and its bf16 copies measured lower as ordinary allocations:
// 175 against 185-191 MiB.)

#include <torch/types.h>

namespace tacit::internal {

enum class Scratch { kGruInputGates, kGruInputGateGrads, kGruHiddenGateGrads, kCount };

// A float32 contiguous tensor of `sizes` over the calling thread's buffer for
// `slot` (grown when needed, freed by ReleaseScratch or with the thread), contents
// undefined. Only for temporaries: the tensor must not outlive the next use
// of the same slot on this thread (never save one for a backward pass or
// return it).
torch::Tensor ScratchTensor(Scratch slot, at::IntArrayRef sizes);

// Frees the calling thread's buffers: at the end of a training call, so a
// laptop's daemon does not hold ~19 MiB of them between rounds. No tensor
// from ScratchTensor may be alive.
void ReleaseScratch();

}  // namespace tacit::internal
