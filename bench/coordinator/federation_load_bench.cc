// Load benchmark: one real tacit-coordinator process and N simulated fleet
// clients (this process, one mutual-TLS channel and device certificate each)
// over loopback gRPC. Each client runs the fleet client's own round
// (load_fleet.h: check-in with the daemon's retry policy, model download,
// held-out evaluation, training on a few synthetic tokens, SecAgg), so the
// coordinator sees exactly a production round. Reports per round the wall
// time and the coordinator's phase times, and per N the coordinator's CPU and
// peak memory (from /proc of its process) and bytes per client.
//
//   build/bench/federation_load_bench --clients 100,500,1000 --rounds 1
//       --vocab 4096 --embedding 96 --hidden 128 --threads 2 [--json FILE]
//
// Exits 1 when a round did not commit, a client was not seated or did not
// take part to the end, or a phase time is missing; 2 for bad flags.

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/common/flags.h"
#include "bench/common/report.h"
#include "bench/coordinator/load_fleet.h"
#include "client/runtime/fleet_channel.h"
#include "coordinator/pki.h"
#include "models/model_config.h"
#include "models/parameter_layout.h"
#include "nlohmann/json.hpp"
#include "secure_agg/credential.h"
#include "secure_agg/phase.h"
#include "secure_agg/protocol.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using tacit::bench::BenchReport;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// utime+stime seconds and VmHWM MiB of a live process; -1 when unreadable.
std::pair<double, double> ProcessUsage(pid_t pid) {
  const std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  double cpu = -1, peak = -1;
  if (const size_t paren = stat.rfind(')'); paren != std::string::npos) {
    std::vector<std::string> fields = absl::StrSplit(stat.substr(paren + 2), ' ');
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    if (fields.size() > 12) cpu = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
  }
  std::istringstream status(ReadAll("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) peak = std::stod(line.substr(6)) / 1024;
  }
  return {cpu, peak};
}

struct Settings {
  tacit::ModelConfig model;
  int rounds = 1;
  int threads = 2;
  int train_tokens = 96;     // per client; a fifth more are held out for evaluation
  int min_survivors = 0;     // cohort.min_survivors; 0: the task's default (2/3 of the cohort)
  int phase_seconds = 600;   // every phase's deadline
  int grpc_memory_mib = -1;  // serve --grpc-memory-mib; -1: the coordinator's default
  std::string tool = "build/bin/tacit-coordinator";
  tacit::bench::RetryPolicy retry;
};

nlohmann::json TaskJson(const Settings& s, int n) {
  const tacit::ModelConfig& m = s.model;
  return {{"name", "load"},
          {"model",
           {{"name", m.name},
            {"hyperparameters",
             {{"embedding_dim", m.embedding_dim},
              {"hidden_dim", m.hidden_dim},
              {"window", m.window}}}}},
          {"vocab", {{"size", m.vocab_size}, {"salt", "bench"}}},
          {"rounds", s.rounds},
          {"cohort", s.min_survivors > 0 ? nlohmann::json{{"size", n},
                                                          {"over_selection", 1.0},
                                                          {"min_survivors", s.min_survivors}}
                                         : nlohmann::json{{"size", n}, {"over_selection", 1.0}}},
          {"training", {{"epochs", 1}, {"batch_size", 8}}},
          // Ten minutes per phase by default: a 1,000-client round's slowest
          // phase took 155 s; a client that leaves mid-phase then costs the
          // run minutes, not an hour, before the bench names its outcome.
          {"deadlines",
           {{"check_in", s.phase_seconds},
            {"download_train", s.phase_seconds},
            {"advertise", s.phase_seconds},
            {"share_keys", s.phase_seconds},
            {"masked_input", s.phase_seconds},
            {"unmasking", s.phase_seconds}}}};
}

// The coordinator, forked and exec'd; its gRPC and metrics addresses once it
// has written endpoint.json. Empty addresses when it exited or took over a
// minute.
struct Coordinator {
  pid_t pid = -1;
  std::string grpc, metrics;
};

Coordinator StartCoordinator(const Settings& s, const std::string& root, int n) {
  Coordinator c;
  c.pid = ::fork();
  if (c.pid == 0) {
    if (std::freopen((root + "/coordinator.log").c_str(), "w", stderr) == nullptr) ::_exit(126);
    std::vector<std::string> args = {s.tool,
                                     "serve",
                                     "--config",
                                     root + "/task.json",
                                     "--state",
                                     root + "/state",
                                     "--pki",
                                     root + "/pki",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--metrics",
                                     "127.0.0.1:0",
                                     "--population",
                                     std::to_string(n),
                                     "--check-ins-per-minute",
                                     "100000"};
    if (s.grpc_memory_mib >= 0) {
      args.insert(args.end(), {"--grpc-memory-mib", std::to_string(s.grpc_memory_mib)});
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv(s.tool.c_str(), argv.data());
    ::_exit(127);
  }
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < give_up) {
    if (::waitpid(c.pid, nullptr, WNOHANG) == c.pid) {
      c.pid = -1;
      return c;
    }
    if (fs::exists(root + "/state/endpoint.json")) {
      auto endpoint = nlohmann::json::parse(ReadAll(root + "/state/endpoint.json"), nullptr, false);
      if (endpoint.is_object()) {
        c.grpc = endpoint.value("grpc", "");
        c.metrics = endpoint.value("metrics", "");
        return c;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return c;
}

// The coordinator's last round, from `tacit-coordinator status --json`.
nlohmann::json LastRound(const Settings& s, const Coordinator& c, const std::string& root) {
  const std::string out = root + "/status.json";
  const std::string command = s.tool + " status --metrics " + c.metrics + " --json > " + out;
  if (std::system(command.c_str()) != 0) return nullptr;
  auto status = nlohmann::json::parse(ReadAll(out), nullptr, false);
  return status.is_object() ? status.value("last_round", nlohmann::json()) : nullptr;
}

// N clients: certificates, SecAgg credentials, channels and synthetic tokens.
std::vector<tacit::bench::LoadClient> MakeClients(const Settings& s, int n,
                                                  const tacit::coordinator::KeyAndCert& ca,
                                                  const std::string& address,
                                                  const std::string& root, std::string* error) {
  std::shared_ptr<const tacit::secagg::IdentityVerifier> verifier;
  if (auto v = tacit::secagg::CredentialVerifier::FromPem(ca.cert_pem); v.ok()) {
    verifier = *std::move(v);
  } else {
    *error = std::string(v.status().message());
    return {};
  }
  std::vector<tacit::bench::LoadClient> clients(n);
  std::mt19937_64 rng(7);  // synthetic tokens only; never near keys
  std::uniform_int_distribution<int32_t> token(1, static_cast<int32_t>(s.model.vocab_size) - 1);
  for (int i = 0; i < n; ++i) {
    tacit::bench::LoadClient& c = clients[i];
    c.device = "sim" + std::to_string(i);
    c.dir = root + "/clients/" + c.device;
    fs::create_directories(c.dir + "/model");
    auto id = tacit::coordinator::IssueDeviceCertificate(ca, c.device, 10);
    auto credential = id.ok() ? tacit::coordinator::IssueSecAggCredential(ca, id->cert_pem)
                              : absl::StatusOr<std::string>(id.status());
    if (!credential.ok()) {
      *error = std::string(credential.status().message());
      return {};
    }
    auto signer =
        tacit::secagg::CredentialSigner::Create(id->key_pem, tacit::secagg::AsBytes(*credential));
    if (!signer.ok()) {
      *error = std::string(signer.status().message());
      return {};
    }
    c.signer = *std::move(signer);
    c.verifier = verifier;
    tacit::runtime::Enrollment enrollment;
    enrollment.coordinator = address;
    enrollment.server_name = "localhost";
    enrollment.ca_pem = ca.cert_pem;
    enrollment.cert_pem = id->cert_pem;
    enrollment.key_pem = id->key_pem;
    // The fleet client's own channel: one connection per client, as on a fleet.
    c.stub = tacit::v1::Federation::NewStub(tacit::runtime::OpenFleetChannel(enrollment));
    for (int k = 0; k < s.train_tokens; ++k) c.tokens.train.push_back(token(rng));
    for (int k = 0; k < s.train_tokens / 5 + 2; ++k) c.tokens.test.push_back(token(rng));
  }
  return clients;
}

// One coordinator, N clients, s.rounds rounds: the figures of this N, with
// every piece that did not happen recorded in `report`.
nlohmann::json RunOne(const Settings& s, int n, BenchReport& report) {
  const std::string name = absl::StrCat(n, " clients");
  nlohmann::json row = {{"clients", n}, {"parameters", tacit::LayoutOf(s.model)->total_size}};
  const std::string root =
      fs::temp_directory_path() / absl::StrCat("tacit-load-", ::getpid(), "-", n);
  fs::remove_all(root);
  fs::create_directories(root + "/pki");
  auto ca = tacit::coordinator::CreateFleetCa("bench CA", 10);
  auto server = ca.ok() ? tacit::coordinator::IssueServerCertificate(*ca, {"localhost"}, 10)
                        : absl::StatusOr<tacit::coordinator::KeyAndCert>(ca.status());
  if (!report.Require(server.ok(), name + ": fleet PKI created (" +
                                       std::string(server.status().message()) + ")")) {
    return row;
  }
  std::ofstream(root + "/pki/ca.crt") << ca->cert_pem;
  std::ofstream(root + "/pki/server.crt") << server->cert_pem;
  std::ofstream(root + "/pki/server.key") << server->key_pem;
  std::ofstream(root + "/task.json") << TaskJson(s, n).dump();

  const Coordinator coordinator = StartCoordinator(s, root, n);
  if (!report.Require(!coordinator.grpc.empty(),
                      name + ": coordinator started (see its log: " + root + "/coordinator.log)")) {
    if (coordinator.pid > 0) {
      ::kill(coordinator.pid, SIGKILL);
      ::waitpid(coordinator.pid, nullptr, 0);
    }
    return row;
  }
  std::string error;
  std::vector<tacit::bench::LoadClient> clients =
      MakeClients(s, n, *ca, coordinator.grpc, root, &error);
  report.Require(error.empty(), name + ": clients enrolled (" + error + ")");

  nlohmann::json rounds = nlohmann::json::array();
  for (int r = 1; r <= s.rounds && error.empty(); ++r) {
    const auto start = Clock::now();
    std::vector<tacit::bench::ClientRound> results = RunFleetRound(clients, s.threads, s.retry);
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    int seated = 0, committed = 0, failed_check_ins = 0;
    double up = 0, down = 0;
    std::string first_other;
    for (const auto& c : results) {
      seated += c.seated;
      failed_check_ins += c.failed_check_ins;
      up += static_cast<double>(c.bytes_up) / n;
      down += static_cast<double>(c.bytes_down) / n;
      if (c.outcome == "committed") {
        ++committed;
      } else if (first_other.empty()) {
        first_other = c.outcome;
      }
    }
    const nlohmann::json last = LastRound(s, coordinator, root);
    nlohmann::json phases = nlohmann::json::object();
    const nlohmann::json times =
        last.is_object() ? last.value("phase_seconds", nlohmann::json()) : nlohmann::json();
    for (int p = 0; p < tacit::secagg::kPhaseCount; ++p) {
      phases[tacit::secagg::PhaseName(p)] =
          times.is_array() && times.size() > static_cast<size_t>(p) ? times[p] : nlohmann::json(-1);
    }
    rounds.push_back(
        {{"round", r},
         {"outcome", last.is_object() ? last.value("outcome", "") : "unknown"},
         {"seated", seated},
         {"committed_clients", committed},
         {"failed_check_ins_retried", failed_check_ins},
         {"wall_seconds", wall},
         {"coordinator_round_seconds", last.is_object() ? last.value("seconds", -1.0) : -1.0},
         {"phase_seconds", phases},
         {"bytes_up_per_client", up},
         {"bytes_down_per_client", down}});
    const std::string which = absl::StrCat(name, ", round ", r);
    report.Require(last.is_object() && last.value("round", -1) == r &&
                       last.value("outcome", "") == "committed",
                   which + " committed on the coordinator (last round: " +
                       (last.is_null() ? "none" : last.dump()) + ")");
    report.Require(committed == n,
                   absl::StrCat(which, ": every client's round committed (", committed, " of ", n,
                                "; first other outcome: ", first_other, ")"));
    std::fprintf(stderr,
                 "federation_load_bench: %d clients, round %d: %d seated, %d committed, %.2f s\n",
                 n, r, seated, committed, wall);
  }
  row["rounds"] = rounds;
  const auto [cpu, peak] = ProcessUsage(coordinator.pid);
  row["coordinator_cpu_seconds"] = cpu;
  row["coordinator_peak_mib"] = peak;
  ::kill(coordinator.pid, SIGTERM);
  ::waitpid(coordinator.pid, nullptr, 0);
  clients.clear();
  fs::remove_all(root);
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Coordinator load: N simulated fleet clients over loopback gRPC with mutual TLS",
               "federation_load_bench"};
  Settings s;
  s.model.name = "gru";
  s.model.vocab_size = 4096;
  s.model.embedding_dim = 96;
  s.model.hidden_dim = 128;
  s.model.window = 16;
  std::string counts = "100,500,1000";
  tacit::bench::CommonFlags common;
  app.add_option("--clients", counts, "comma-separated client counts (one coordinator each)")
      ->capture_default_str();
  app.add_option("--rounds", s.rounds, "rounds per client count")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--vocab", s.model.vocab_size)
      ->check(CLI::Range(16, 1 << 20))
      ->capture_default_str();
  app.add_option("--embedding", s.model.embedding_dim)
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--hidden", s.model.hidden_dim)->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--window", s.model.window)->check(CLI::Range(2, 4096))->capture_default_str();
  app.add_option("--train-tokens", s.train_tokens, "synthetic training tokens per client")
      ->check(CLI::Range(8, 1000000))
      ->capture_default_str();
  app.add_option("--min-survivors", s.min_survivors,
                 "cohort.min_survivors (0: the task default, 2/3 of the cohort)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--threads", s.threads, "clients training at once (one thread each)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--phase-seconds", s.phase_seconds, "every round phase's deadline")
      ->check(CLI::Range(5, 86400))
      ->capture_default_str();
  app.add_option("--grpc-memory-mib", s.grpc_memory_mib,
                 "the coordinator's --grpc-memory-mib (-1: its default)")
      ->check(CLI::Range(-1, 1 << 20))
      ->capture_default_str();
  app.add_option("--coordinator", s.tool, "the tacit-coordinator binary")->capture_default_str();
  app.add_option("--give-up-seconds", s.retry.give_up_seconds,
                 "a client that has no assignment after this long stays out (the run fails)")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  tacit::bench::AddCommonFlags(app, &common);
  if (auto exit_code = tacit::bench::ParseFlags(app, argc, argv)) return *exit_code;

  std::vector<int> sizes;
  for (const auto& part : absl::StrSplit(counts, ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 3) {
      std::fprintf(stderr, "federation_load_bench: --clients wants counts of 3 or more, got '%s'\n",
                   std::string(part).c_str());
      return tacit::bench::kExitBadFlags;
    }
    sizes.push_back(n);
  }
  BenchReport report("federation_load_bench");
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < sizes.size(); ++i) {
    rows.push_back(RunOne(s, sizes[i], report));
    report.figures()["rows"] = rows;
    const std::string row = "/rows/" + std::to_string(i);
    report.RequireFigure(row + "/coordinator_peak_mib");
    report.RequireFigure(row + "/coordinator_cpu_seconds");
    for (int r = 0; r < static_cast<int>(rows[i].value("rounds", nlohmann::json::array()).size());
         ++r) {
      for (int p = 0; p < tacit::secagg::kPhaseCount; ++p) {
        report.RequireFigure(
            absl::StrCat(row, "/rounds/", r, "/phase_seconds/", tacit::secagg::PhaseName(p)));
      }
    }
  }
  report.figures()["model"] = {{"vocab", s.model.vocab_size},
                               {"embedding", s.model.embedding_dim},
                               {"hidden", s.model.hidden_dim},
                               {"window", s.model.window}};
  return report.Finish(common.json_path, s.threads);
}
