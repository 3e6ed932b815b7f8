// secagg_bench: runs full SecAgg / SecAgg+ rounds in-process and reports the
// per-phase cost (client and server time, bytes per client) and the figures
// the issue's targets are stated in, as one JSON report (bench/common: the
// figures and the machine) on stdout or in --json FILE; a readable table goes
// to stderr. A round that fails or a figure not measured exits 1; unknown
// flags exit 2.
//
//   build/bench/secagg_bench --clients 200 --neighbors 20 --length 1000000
//       --bits 32 --dropout 0.1 [--repeats 3] [--threshold T]
//
// Clients are served one at a time and produce their input only when masking
// starts, so memory stays near one server sum plus one client's vectors.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <random>

#include "bench/common/flags.h"
#include "bench/common/report.h"
#include "bench/secure_agg/server_heap.h"
#include "coordinator/pki.h"
#include "nlohmann/json.hpp"
#include "secure_agg/bit_packing.h"
#include "secure_agg/crypto.h"
#include "secure_agg/fixed_point.h"
#include "secure_agg/identity.h"
#include "secure_agg/in_process_delivery.h"
#include "secure_agg/masking.h"
#include "secure_agg/parameters.h"
#include "secure_agg/protocol.h"
#include "secure_agg/round_driver.h"

namespace tacit::secagg {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

uint64_t PeakRssBytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// Raw AES-256-CTR keystream speed, in the chunk size the mask expansion uses;
// the best of several runs, since the machine may be shared (the masking time
// below is also a best-of, so the two are compared like for like).
// A failed measurement is an error, never a 0 or -1 in the table.
absl::StatusOr<double> MeasureAesCtrBytesPerSecond() {
  auto key = RandomSecretKey();
  if (!key.ok()) return key.status();
  auto stream = AesCtrStream::Create(*key);
  if (!stream.ok()) return stream.status();
  std::vector<uint8_t> buffer(16384);
  const size_t total = size_t{64} << 20;
  std::vector<double> rates;
  for (int run = 0; run < 7; ++run) {
    auto start = Clock::now();
    for (size_t done = 0; done < total; done += buffer.size()) {
      if (absl::Status s = stream->Generate(absl::MakeSpan(buffer)); !s.ok()) return s;
    }
    rates.push_back(total / Seconds(start));
  }
  return *std::max_element(rates.begin(), rates.end());
}

// One client's masking of its quantized input: the self mask plus k pairwise
// masks added in place, reduced and packed at `bits` bits per element for the
// wire, exactly the client's code path (MaskAndPack).
absl::StatusOr<double> MeasureClientMaskSeconds(uint32_t masks, uint64_t elements, uint32_t bits) {
  std::vector<MaskTerm> terms;
  for (uint32_t i = 0; i < masks; ++i) {
    auto key = RandomSecretKey();
    if (!key.ok()) return key.status();
    terms.push_back({*std::move(key), i % 2 ? -1 : 1});
  }
  // The client masks in words of the mask generator's width: 32-bit when
  // bits <= 32.
  std::vector<uint8_t> packed(PackedBytes(elements, bits));
  auto time_masking = [&](auto& values) -> absl::StatusOr<double> {
    std::vector<double> runs;
    for (int run = 0; run < 5; ++run) {
      auto start = Clock::now();
      if (absl::Status s = ApplyMasks(terms, bits, 0, absl::MakeSpan(values)); !s.ok()) return s;
      ReduceModulo(absl::MakeSpan(values), bits);
      if (absl::Status s = PackResiduesInto(absl::MakeConstSpan(values), bits, packed.data());
          !s.ok()) {
        return s;
      }
      runs.push_back(Seconds(start));
    }
    return *std::min_element(runs.begin(), runs.end());
  };
  if (ElementWidth(bits) == 4) {
    std::vector<uint32_t> values(elements, 12345);
    return time_masking(values);
  }
  std::vector<uint64_t> values(elements, 12345);
  return time_masking(values);
}

struct Options {
  uint32_t clients = 100;
  uint32_t neighbors = 0;
  uint64_t length = 100000;
  double dropout = 0.0;
  uint32_t bits = 32;
  uint32_t threshold = 0;
  int repeats = 1;
  std::string identity = "credential";  // none | ed25519 | x509 | credential (the fleet's)
  std::string json_path;                // "" = stdout
};

// Every client's signer and the one verifier they share: SecAgg credentials
// of one fleet CA (coordinator/pki, as enrolled laptops hold), X.509 device
// certificates of that CA (what fleets sent before credentials), raw Ed25519
// keys (the simulator's), or none (an unsigned round).
struct Identities {
  std::map<uint32_t, std::shared_ptr<const Signer>> signers;
  std::shared_ptr<const IdentityVerifier> verifier;
};

absl::StatusOr<Identities> MakeIdentities(const std::string& scheme,
                                          const std::vector<uint32_t>& cohort) {
  Identities out;
  if (scheme == "none") return out;
  if (scheme == "ed25519") {
    auto known = std::make_shared<KnownKeysVerifier>();
    for (uint32_t id : cohort) {
      auto signer = Ed25519Signer::Generate();
      if (!signer.ok()) return signer.status();
      known->Register((*signer)->identity());
      out.signers[id] = std::move(*signer);
    }
    out.verifier = known;
    return out;
  }
  if (scheme != "x509" && scheme != "credential") {
    return absl::InvalidArgumentError("--identity is none, ed25519, x509 or credential");
  }
  const bool x509 = scheme == "x509";
  auto ca = coordinator::CreateFleetCa("bench fleet", 30);
  if (!ca.ok()) return ca.status();
  if (x509) {
    auto verifier = X509Verifier::FromPem(ca->cert_pem);
    if (!verifier.ok()) return verifier.status();
    out.verifier = std::move(*verifier);
  } else {
    auto verifier = CredentialVerifier::FromPem(ca->cert_pem);
    if (!verifier.ok()) return verifier.status();
    out.verifier = std::move(*verifier);
  }
  for (uint32_t id : cohort) {
    auto device = coordinator::IssueDeviceCertificate(*ca, "bench-" + std::to_string(id), 30);
    if (!device.ok()) return device.status();
    if (x509) {
      auto signer = X509Signer::FromPem(device->key_pem, device->cert_pem);
      if (!signer.ok()) return signer.status();
      out.signers[id] = std::move(*signer);
      continue;
    }
    auto credential = coordinator::IssueSecAggCredential(*ca, device->cert_pem);
    if (!credential.ok()) return credential.status();
    auto signer = CredentialSigner::Create(device->key_pem, AsBytes(*credential));
    if (!signer.ok()) return signer.status();
    out.signers[id] = std::move(*signer);
  }
  return out;
}

// Median seconds of one signature and one verification of an advertisement.
std::pair<double, double> MeasureSignature(const Signer& signer, const IdentityVerifier& verifier) {
  const Bytes message(200, 0x5a);
  std::vector<double> sign, verify;
  for (int i = 0; i < 21; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    Bytes signature = *signer.Sign(message);
    auto t1 = std::chrono::steady_clock::now();
    if (!verifier.Verify(signer.identity(), message, signature).ok()) std::abort();
    auto t2 = std::chrono::steady_clock::now();
    sign.push_back(std::chrono::duration<double>(t1 - t0).count());
    verify.push_back(std::chrono::duration<double>(t2 - t1).count());
  }
  return {Median(sign), Median(verify)};
}

int Run(const Options& opt) {
  std::vector<uint32_t> cohort(opt.clients);
  for (uint32_t i = 0; i < opt.clients; ++i) cohort[i] = i + 1;
  const bool complete = opt.neighbors == 0 || opt.neighbors + 1 >= opt.clients;
  const uint32_t holders = complete ? opt.clients : opt.neighbors + 1;
  ServerConfig cfg;
  cfg.cohort_ids = cohort;
  cfg.neighbors = complete ? 0 : opt.neighbors;
  cfg.threshold = opt.threshold ? opt.threshold : ActiveSecureThreshold(holders);
  cfg.bits = opt.bits;
  cfg.clip_bound = 1.0;
  cfg.max_weight = 1.0;
  cfg.vector_length = opt.length;
  auto scale = LargestSafeScale(opt.bits, 1.0, 1.0, opt.clients);
  if (!scale.ok()) {
    std::cerr << scale.status() << "\n";
    return 2;
  }
  cfg.scale = *scale;

  // Dropouts: floor(F * N) clients, spread over the five phases.
  std::mt19937 rng(42);
  std::vector<uint32_t> order = cohort;
  std::shuffle(order.begin(), order.end(), rng);
  DropoutPlan plan;
  const uint32_t dropped = static_cast<uint32_t>(opt.dropout * opt.clients);
  for (uint32_t i = 0; i < dropped; ++i) plan.dropped_before[i % kPhaseCount].insert(order[i]);

  auto identities = MakeIdentities(opt.identity, cohort);
  if (!identities.ok()) {
    std::cerr << identities.status() << "\n";
    return 1;
  }
  cfg.verifier = identities->verifier;
  auto make_client = [&](uint32_t id) {
    ClientConfig cc;
    cc.client_id = id;
    if (identities->verifier) {
      cc.signer = identities->signers.at(id);
      cc.verifier = identities->verifier;
    }
    InputProvider input = [id, &opt]() -> absl::StatusOr<std::vector<float>> {
      std::vector<float> x(opt.length);
      uint64_t s = 0x9e3779b97f4a7c15ULL * (id + 1);
      for (auto& v : x) {  // xorshift: cheap synthetic updates in [-1, 1)
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        v = static_cast<float>(static_cast<int32_t>(s >> 32)) * (1.0f / 2147483648.0f);
      }
      return x;
    };
    return SecAggClient::CreateWithProvider(cc, input, 1.0);
  };

  // One run's records: the server's per phase (round_driver.h) and the
  // clients' (in_process_delivery.h).
  struct Run {
    std::array<PhaseRecord, kPhaseCount> server;
    std::array<ClientPhaseStats, kPhaseCount> clients;
    double server_total_seconds = 0;
  };
  std::vector<Run> runs;
  std::vector<double> mask_seconds;
  std::vector<double> server_heap_peaks;  // bytes above the heap before the server existed
  nlohmann::json server_heap_by_phase = nlohmann::json::array();
  double headroom = 0;
  for (int r = 0; r < opt.repeats; ++r) {
    cfg.round_id = r + 1;
    const int64_t heap_before_server = HeapInUse();
    auto driver = RoundDriver::Create(cfg);
    if (!driver.ok()) {
      std::cerr << driver.status() << "\n";
      return 2;
    }
    headroom = (*driver)->server().no_wrap_report().headroom_bits;
    std::map<uint32_t, std::unique_ptr<SecAggClient>> clients;
    for (uint32_t id : cohort) {
      auto client = make_client(id);
      if (!client.ok()) {
        std::cerr << "client " << id << ": " << client.status() << "\n";
        return 1;
      }
      clients[id] = *std::move(client);
    }
    InProcessDelivery::Options options;
    options.dropouts = plan;
    options.workers = 1;  // one client at a time: one masked vector in memory, as on laptops
    InProcessDelivery delivery(std::move(clients), options);
    ServerHeapDelivery measured(delivery);
    auto result = RunRound(**driver, measured);
    if (!result.ok()) {
      std::cerr << "round failed: " << result.status() << "\n";
      return 1;
    }
    runs.push_back({(*driver)->phases(), delivery.client_stats(), (*driver)->server_seconds()});
    // A failed sample makes the figure -1: the report then fails the run.
    int64_t peak = 0;
    bool sampled = true;
    for (const auto& phase : measured.samples()) {
      for (int64_t sample : phase) {
        sampled = sampled && sample >= 0;
        peak = std::max(peak, sample - heap_before_server);
      }
    }
    server_heap_peaks.push_back(sampled ? static_cast<double>(peak) : -1.0);
    if (r == 0) {
      for (int p = 0; p < kPhaseCount; ++p) {
        server_heap_by_phase.push_back(
            {{"phase", PhaseName(p)},
             {"at_open", measured.samples()[p][0] - heap_before_server},
             {"replies_in", measured.samples()[p][1] - heap_before_server}});
      }
    }
    auto masking = MeasureClientMaskSeconds(std::min<uint32_t>(holders, opt.clients),
                                            opt.length + 1, opt.bits);
    if (!masking.ok()) {
      std::cerr << "measuring the client's masking failed: " << masking.status() << "\n";
      return 1;
    }
    mask_seconds.push_back(*masking);
  }
  const absl::StatusOr<double> measured_aes_rate = MeasureAesCtrBytesPerSecond();
  if (!measured_aes_rate.ok() || !(*measured_aes_rate > 0)) {
    std::cerr << "measuring AES-CTR speed failed: " << measured_aes_rate.status() << "\n";
    return 1;
  }
  const double aes_rate = *measured_aes_rate;

  nlohmann::json phases = nlohmann::json::array();
  double up_total = 0, down_total = 0;
  std::fprintf(stderr, "%-18s %12s %12s %12s %14s %14s\n", "phase", "client_mean_s", "client_max_s",
               "server_s", "bytes_down/cl", "bytes_up/cl");
  for (int p = 0; p < kPhaseCount; ++p) {
    std::vector<double> client_mean, client_max, server_s, down, up;
    for (const auto& s : runs) {
      const PhaseRecord& server = s.server[p];
      const ClientPhaseStats& clients = s.clients[p];
      const double answered = std::max<uint32_t>(1, clients.answered);
      client_mean.push_back(clients.seconds_total / answered);
      client_max.push_back(clients.seconds_max);
      server_s.push_back(server.server_seconds);
      down.push_back(static_cast<double>(server.bytes_down_total) / std::max(1, server.expected));
      up.push_back(static_cast<double>(server.bytes_up_total) / std::max(1, server.answered));
    }
    const double d = Median(down), u = Median(up);
    down_total += d;
    up_total += u;
    phases.push_back({{"phase", PhaseName(p)},
                      {"client_mean_seconds", Median(client_mean)},
                      {"client_max_seconds", Median(client_max)},
                      {"server_seconds", Median(server_s)},
                      {"bytes_down_per_client", d},
                      {"bytes_up_per_client", u},
                      {"clients_answering", runs[0].clients[p].answered}});
    std::fprintf(stderr, "%-18s %12.4f %12.4f %12.4f %14.0f %14.0f\n", PhaseName(p),
                 Median(client_mean), Median(client_max), Median(server_s), d, u);
  }
  std::vector<double> unmask, total;
  for (const auto& s : runs) {
    unmask.push_back(s.server[kPhaseCount - 1].server_seconds);
    total.push_back(s.server_total_seconds);
  }
  const double mask_s = Median(mask_seconds);
  const uint32_t masks = std::min<uint32_t>(holders, opt.clients);  // k + 1
  const double generator_s =
      static_cast<double>(masks) * (opt.length + 1) * ElementWidth(opt.bits) / aes_rate;
  const uint64_t rss = PeakRssBytes();
  const double rss_budget = 64.0 * (1 << 20) + 2048.0 * opt.clients;
  nlohmann::json out = {
      {"clients", opt.clients},
      {"neighbors", cfg.neighbors},
      {"threshold", cfg.threshold},
      {"length", opt.length},
      {"bits", opt.bits},
      {"dropout", opt.dropout},
      {"repeats", opt.repeats},
      {"headroom_bits", headroom},
      {"client_mask_seconds", mask_s},
      {"mask_vectors_per_client", masks},
      {"mask_generation_seconds_at_raw_speed", generator_s},
      {"client_mask_over_generation", mask_s / generator_s},
      {"server_unmask_seconds", Median(unmask)},
      {"server_total_seconds", Median(total)},
      {"bytes_up_per_client", up_total},
      {"bytes_down_per_client", down_total},
      {"peak_rss_bytes", rss},
      {"peak_rss_budget_bytes", rss_budget},
      {"aes_ctr_bytes_per_second", aes_rate},
      {"server_heap_peak_bytes", Median(server_heap_peaks)},
      // The running masked sum: vector_length + 1 words of 8 bytes.
      {"server_sum_bytes", (opt.length + 1) * sizeof(uint64_t)},
      {"server_bytes_per_client_beyond_sum",
       (Median(server_heap_peaks) - static_cast<double>((opt.length + 1) * sizeof(uint64_t))) /
           opt.clients},
      {"server_heap_by_phase", server_heap_by_phase},
      {"phases", phases},
  };
  if (identities->verifier) {
    const Signer& signer = *identities->signers.begin()->second;
    auto [sign_s, verify_s] = MeasureSignature(signer, *identities->verifier);
    // Per client: one signature up; each of its h - 1 neighbours' identity
    // and signature down and verified.
    const Bytes signature = *signer.Sign(Bytes(200, 0x5a));
    out["identity"] = {{"scheme", opt.identity},
                       {"identity_bytes", signer.identity().size()},
                       {"signature_bytes", signature.size()},
                       {"sign_seconds", sign_s},
                       {"verify_seconds", verify_s},
                       {"verifications_per_client", holders - 1},
                       {"client_identity_seconds", sign_s + (holders - 1) * verify_s}};
    std::fprintf(stderr,
                 "identity %s: %zu-byte identity, %zu-byte signature, sign %.6f s, "
                 "verify %.6f s x %u neighbours\n",
                 opt.identity.c_str(), signer.identity().size(), signature.size(), sign_s, verify_s,
                 holders - 1);
  }
  bench::BenchReport report("secagg_bench");
  report.figures() = std::move(out);
  for (const char* figure : {"/client_mask_seconds", "/server_total_seconds",
                             "/server_unmask_seconds", "/bytes_up_per_client", "/peak_rss_bytes",
                             "/server_heap_peak_bytes", "/server_bytes_per_client_beyond_sum"}) {
    report.RequireFigure(figure);
  }
  for (int p = 0; p < kPhaseCount; ++p) {
    report.RequireFigure("/phases/" + std::to_string(p) + "/server_seconds");
  }
  return report.Finish(opt.json_path, 1);
}

}  // namespace
}  // namespace tacit::secagg

int main(int argc, char** argv) {
  tacit::secagg::Options opt;
  CLI::App app{"secagg_bench: full SecAgg/SecAgg+ rounds in-process, per-phase cost",
               "secagg_bench"};
  app.add_option("--clients", opt.clients, "cohort size")->check(CLI::Range(3u, 1000000u));
  app.add_option("--neighbors", opt.neighbors, "SecAgg+ degree k (even); 0 = complete graph");
  app.add_option("--length", opt.length, "vector length")->check(CLI::PositiveNumber);
  app.add_option("--dropout", opt.dropout, "fraction of clients dropping, spread over phases")
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--bits", opt.bits, "modulus 2^bits")->check(CLI::Range(2u, 62u));
  app.add_option(
      "--threshold", opt.threshold,
      "Shamir threshold (default: floor(2h/3) + 1 of the h holders, what clients accept)");
  app.add_option("--repeats", opt.repeats, "rounds to run; figures are medians")
      ->check(CLI::Range(1, 100));
  app.add_option("--identity", opt.identity,
                 "signatures on advertised keys: credential (the fleet's SecAgg credentials, "
                 "default), x509 (device certificates), ed25519 (the simulator's), none")
      ->check(CLI::IsMember({"none", "ed25519", "x509", "credential"}));
  tacit::bench::CommonFlags common;
  tacit::bench::AddCommonFlags(app, &common);
  if (auto exit_code = tacit::bench::ParseFlags(app, argc, argv)) return *exit_code;
  opt.json_path = common.json_path;
  return tacit::secagg::Run(opt);
}
