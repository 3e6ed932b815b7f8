#include "models/internal/dnnl_gemm.h"

#include <dnnl.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace tacit::internal {
namespace {

using dnnl::memory;
using Key = std::tuple<int64_t, int64_t, int64_t, bool, bool, bool, bool, bool>;

const dnnl::engine& Engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// A built product and the scratchpad size it needs.
struct Product {
  dnnl::matmul primitive;
  memory::desc scratchpad;
};

// One thread's stream, primitives and the single scratchpad they share (a
// stream is not shareable across threads; per-thread caches need no lock;
// oneDNN would otherwise give each primitive its own scratchpad: ~13 MiB more
// peak RSS for the head's bf16 products, past the 200 MiB budget).
struct ThreadCache {
  dnnl::stream stream{Engine()};
  std::map<Key, Product> primitives;
  std::vector<uint8_t> scratchpad;
  std::map<int64_t, dnnl::reorder> to_bf16;  // by element count
};

ThreadCache& Cache() {
  thread_local ThreadCache cache;
  return cache;
}

// Shapes vary with the last chunk and the last batch of each call; a long
// run (a laptop over months of rounds) must not keep every one it met. A
// step uses about ten, so a full cache is simply dropped and rebuilt.
constexpr size_t kMaxCachedShapes = 64;

template <typename Map>
void MakeRoomIn(Map& cache) {
  if (cache.size() >= kMaxCachedShapes) cache.clear();
}

memory::desc Plain(int64_t rows, int64_t cols, bool transposed,
                   memory::data_type type = memory::data_type::f32) {
  // A transposed operand is the stored matrix read column-major.
  return memory::desc({rows, cols}, type,
                      transposed ? memory::format_tag::ba : memory::format_tag::ab);
}

memory::data_type InputType(const GemmShape& s) {
  return s.bf16_inputs ? memory::data_type::bf16 : memory::data_type::f32;
}

Product Build(const GemmShape& s) {
  const memory::desc a = Plain(s.m, s.k, s.a_transposed, InputType(s));
  const memory::desc b = Plain(s.k, s.n, s.b_transposed, InputType(s));
  const memory::desc c = Plain(s.m, s.n, false);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (s.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  const auto desc =
      s.bias ? dnnl::matmul::desc(a, b, Plain(1, s.n, false), c) : dnnl::matmul::desc(a, b, c);
  const dnnl::matmul::primitive_desc pd(desc, attr, Engine());
  return {dnnl::matmul(pd), pd.scratchpad_desc()};
}

}  // namespace

void DnnlGemm(const GemmShape& s, const void* a, const void* b, const float* bias, float* c) {
  try {
    ThreadCache& cache = Cache();
    const Key key{s.m,          s.n,    s.k,          s.a_transposed, s.b_transposed,
                  s.accumulate, s.bias, s.bf16_inputs};
    auto it = cache.primitives.find(key);
    if (it == cache.primitives.end()) {
      MakeRoomIn(cache.primitives);
      it = cache.primitives.emplace(key, Build(s)).first;
    }
    const dnnl::engine& engine = Engine();
    // oneDNN reads inputs through non-const handles; it does not write them.
    memory a_m(Plain(s.m, s.k, s.a_transposed, InputType(s)), engine, const_cast<void*>(a));
    memory b_m(Plain(s.k, s.n, s.b_transposed, InputType(s)), engine, const_cast<void*>(b));
    memory c_m(Plain(s.m, s.n, false), engine, c);
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, a_m}, {DNNL_ARG_WEIGHTS, b_m}, {DNNL_ARG_DST, c_m}};
    if (s.bias) {
      args.emplace(DNNL_ARG_BIAS, memory(Plain(1, s.n, false), engine, const_cast<float*>(bias)));
    }
    const memory::desc& scratch = it->second.scratchpad;
    if (scratch.get_size() > 0) {
      if (cache.scratchpad.size() < scratch.get_size()) cache.scratchpad.resize(scratch.get_size());
      args.emplace(DNNL_ARG_SCRATCHPAD, memory(scratch, engine, cache.scratchpad.data()));
    }
    it->second.primitive.execute(cache.stream, args);
    cache.stream.wait();
  } catch (const dnnl::error& e) {
    throw std::runtime_error("oneDNN refused a " + std::to_string(s.m) + " x " +
                             std::to_string(s.k) + " by " + std::to_string(s.k) + " x " +
                             std::to_string(s.n) + " product: " + e.what());
  }
}

void ToBfloat16(const float* in, int64_t n, uint16_t* out) {
  if (n == 0) return;
  try {
    ThreadCache& cache = Cache();
    const memory::desc from({n}, memory::data_type::f32, memory::format_tag::a);
    const memory::desc to({n}, memory::data_type::bf16, memory::format_tag::a);
    auto it = cache.to_bf16.find(n);
    if (it == cache.to_bf16.end()) {
      MakeRoomIn(cache.to_bf16);
      it = cache.to_bf16
               .emplace(n,
                        dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), from, Engine(), to)))
               .first;
    }
    memory src(from, Engine(), const_cast<float*>(in));
    memory dst(to, Engine(), out);
    it->second.execute(cache.stream, src, dst);
    cache.stream.wait();
  } catch (const dnnl::error& e) {
    throw std::runtime_error("oneDNN could not convert " + std::to_string(n) +
                             " floats to bfloat16: " + e.what());
  }
}

namespace {

std::string IsaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    case dnnl::cpu_isa::avx:
      return "avx";
    case dnnl::cpu_isa::sse41:
      return "sse41";
    default:
      return "other";
  }
}

bool NativeBfloat16(dnnl::cpu_isa isa) {
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

HeadPrecisionChoice& Choice() {
  static HeadPrecisionChoice choice = [] {
    const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
    const char* env = std::getenv("TACIT_HEAD_PRECISION");
    HeadPrecisionChoice chosen =
        ChooseHeadPrecision(env != nullptr ? env : "", NativeBfloat16(isa), IsaName(isa));
    if (chosen.description.find("not understood") != std::string::npos) {
      std::fprintf(stderr, "tacit: head precision %s\n", chosen.description.c_str());
    }
    return chosen;
  }();
  return choice;
}

}  // namespace

HeadPrecisionChoice ChooseHeadPrecision(const std::string& wanted, bool native_bf16,
                                        const std::string& isa) {
  if (wanted == "fp32") return {HeadPrecision::kFloat32, "fp32 (TACIT_HEAD_PRECISION=fp32)"};
  const std::string note = wanted.empty() || wanted == "auto" || wanted == "bf16"
                               ? ""
                               : "; TACIT_HEAD_PRECISION='" + wanted +
                                     "' not understood (fp32, bf16 or auto): by the CPU";
  if (!native_bf16) {
    return {HeadPrecision::kFloat32,
            "fp32 (no native bf16 on this CPU: " + isa +
                (wanted == "bf16" ? "; TACIT_HEAD_PRECISION=bf16 would be emulated, slower" : "") +
                note + ")"};
  }
  return {HeadPrecision::kBfloat16, "bf16 inputs, fp32 accumulation (native: " + isa + note + ")"};
}

HeadPrecision TrainingHeadPrecision() { return Choice().precision; }

bool NativeBfloat16Products() { return NativeBfloat16(dnnl::get_effective_cpu_isa()); }

void OverrideTrainingHeadPrecision(HeadPrecision precision, const std::string& why) {
  Choice() = {precision, (precision == HeadPrecision::kBfloat16 ? "bf16 inputs, fp32 accumulation ("
                                                                : "fp32 (") +
                             why + ")"};
}

std::string TrainingHeadPrecisionDescription() { return Choice().description; }

const char* DnnlDescription() {
  static const std::string description = [] {
    const dnnl_version_t* v = dnnl::version();
    std::string isa = IsaName(dnnl::get_effective_cpu_isa());
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->patch) + " (" + isa + ")";
  }();
  return description.c_str();
}

}  // namespace tacit::internal
