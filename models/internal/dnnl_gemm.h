#pragma once

// The training step's large and repeated matrix products through oneDNN
// (Debian's libdnnl, which LibTorch itself links) instead of LibTorch's BLAS
// call: on this machine's AVX-512 cores its JIT kernels run the head's
// products 6-17 % and the GRU's per-step products 20-40 % faster than
// OpenBLAS's sgemm in fp32, and on a CPU that multiplies bfloat16 natively
// (AVX-512 BF16, AMX) about twice as fast again with bf16 inputs and fp32
// accumulation (docs/model.md, "Local training speed"). Plain C++ on raw
// row-major arrays: no LibTorch here.

#include <cstdint>
#include <string>

namespace tacit::internal {

// C[m x n] = alpha * op(A) op(B) (+ bias[n] on every row) (+ C when
// `accumulate`), all row-major and contiguous. op(A) is m x k: A is stored
// m x k, or k x m when `a_transposed`. op(B) is k x n: B is stored k x n, or
// n x k when `b_transposed`.
struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
  bool a_transposed = false;
  bool b_transposed = false;
  bool accumulate = false;
  bool bias = false;
  bool bf16_inputs = false;  // A and B hold bfloat16 (ToBfloat16); C is float

  GemmShape(int64_t m_rows, int64_t n_cols, int64_t k_inner) : m(m_rows), n(n_cols), k(k_inner) {}
  GemmShape& TransposedA() {
    a_transposed = true;
    return *this;
  }
  GemmShape& TransposedB() {
    b_transposed = true;
    return *this;
  }
  GemmShape& Accumulating() {
    accumulate = true;
    return *this;
  }
  GemmShape& WithBias() {
    bias = true;
    return *this;
  }
  GemmShape& Bfloat16Inputs() {
    bf16_inputs = true;
    return *this;
  }
};

// Runs on the calling thread's OpenMP thread count (each training thread
// sets its own); primitives are built once per shape and thread (at most 64
// shapes kept per thread). Throws
// std::runtime_error naming the shape when oneDNN refuses it.
void DnnlGemm(const GemmShape& shape, const void* a, const void* b, const float* bias, float* c);

// `n` floats as bfloat16 (round to nearest even) into `out`.
void ToBfloat16(const float* in, int64_t n, uint16_t* out);

// The precision of the training head's three products (logits, input and
// weight gradients), the step's largest: bf16 inputs with fp32 accumulation
// where oneDNN runs native bf16 kernels on this CPU, else fp32.
// TACIT_HEAD_PRECISION=fp32 forces fp32; bf16 or auto (or unset) choose by
// the CPU, and bf16 is never used on a CPU that would emulate it; any other
// value is named in the description and on stderr, and chooses by the CPU.
// Evaluation and prediction always run in fp32.
enum class HeadPrecision { kFloat32, kBfloat16 };
HeadPrecision TrainingHeadPrecision();
// The choice and its description from TACIT_HEAD_PRECISION's value (empty
// when unset), whether the CPU has native bf16 products and its ISA's name.
struct HeadPrecisionChoice {
  HeadPrecision precision;
  std::string description;
};
HeadPrecisionChoice ChooseHeadPrecision(const std::string& wanted, bool native_bf16,
                                        const std::string& isa);
// Whether oneDNN runs native bf16 kernels here (AVX-512 BF16 or AMX).
bool NativeBfloat16Products();
// Overrides the choice above for the whole process (tests; a benchmark that
// measures both); `why` goes into the description.
void OverrideTrainingHeadPrecision(HeadPrecision precision, const std::string& why);
// "bf16 (native: avx512_core_bf16)" or "fp32 (...why...)".
std::string TrainingHeadPrecisionDescription();

// oneDNN's version and the instruction set its kernels use here, e.g.
// "oneDNN 2.6.3 (avx512_core_bf16)", for the benchmarks' machine report.
const char* DnnlDescription();

}  // namespace tacit::internal
