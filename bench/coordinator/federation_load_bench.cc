// Load benchmark: one real tacit-coordinator process and N simulated clients
// (this process, one TLS channel and device certificate each) over loopback
// gRPC, one round per N. Clients skip training (a random update stands in)
// but run the real secure aggregation client, so the coordinator sees exactly
// a production round. Reports round latency by phase, coordinator CPU and
// peak memory (from /proc of the coordinator process) and bytes per client.
//
//   build/bench/federation_load_bench --clients 100,500,1000 --vocab 4096
//       --embedding 96 --hidden 128 --threads 2

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "client/runtime/fleet_channel.h"
#include "common/parallel_for.h"
#include "coordinator/pki.h"
#include "models/model_config.h"
#include "models/parameter_layout.h"
#include "nlohmann/json.hpp"
#include "secure_agg/client.h"
#include "secure_agg/identity.h"
#include "secure_agg/phase.h"
#include "secure_agg/protocol.h"
#include "tacit/v1/federation.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// utime+stime seconds and VmHWM MiB of a live process.
std::pair<double, double> ProcessUsage(pid_t pid) {
  std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
  std::vector<std::string> fields = absl::StrSplit(stat.substr(stat.rfind(')') + 2), ' ');
  double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double cpu = fields.size() > 12 ? (std::stod(fields[11]) + std::stod(fields[12])) / ticks : 0;
  double peak = 0;
  std::istringstream status(ReadAll("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) peak = std::stod(line.substr(6)) / 1024;
  }
  return {cpu, peak};
}

struct SimClient {
  std::string device;
  std::unique_ptr<tacit::v1::Federation::Stub> stub;
  tacit::v1::Assignment assignment;
  std::unique_ptr<tacit::secagg::SecAggClient> secagg;
  std::shared_ptr<const tacit::secagg::Signer> signer;  // its device key and SecAgg credential
  int64_t bytes_up = 0, bytes_down = 0;
};

struct Row {
  int clients = 0;
  int64_t parameters = 0;
  nlohmann::json last_round;
  double wall = 0, coordinator_cpu = 0, coordinator_peak_mib = 0;
  double bytes_up_per_client = 0, bytes_down_per_client = 0;
  std::string outcome;
};

std::unique_ptr<tacit::v1::Federation::Stub> StubFor(const std::string& address,
                                                     const std::string& ca,
                                                     const tacit::coordinator::KeyAndCert& id) {
  tacit::runtime::Enrollment enrollment;
  enrollment.coordinator = address;
  enrollment.server_name = "localhost";
  enrollment.ca_pem = ca;
  enrollment.cert_pem = id.cert_pem;
  enrollment.key_pem = id.key_pem;
  // The fleet client's own channel: one connection per client, as on a real fleet.
  return tacit::v1::Federation::NewStub(tacit::runtime::OpenFleetChannel(enrollment));
}

Row RunOne(int n, const tacit::ModelConfig& model, int threads, const std::string& tool) {
  Row row;
  row.clients = n;
  row.parameters = tacit::LayoutOf(model)->total_size;
  std::string root = fs::temp_directory_path() /
                     ("tacit-load-" + std::to_string(::getpid()) + "-" + std::to_string(n));
  fs::remove_all(root);
  fs::create_directories(root);
  auto ca = *tacit::coordinator::CreateFleetCa("bench CA", 10);
  auto server = *tacit::coordinator::IssueServerCertificate(ca, {"localhost", "127.0.0.1"}, 10);
  fs::create_directories(root + "/pki");
  std::ofstream(root + "/pki/ca.crt") << ca.cert_pem;
  std::ofstream(root + "/pki/server.crt") << server.cert_pem;
  std::ofstream(root + "/pki/server.key") << server.key_pem;
  nlohmann::json task = {{"name", "load"},
                         {"model",
                          {{"name", model.name},
                           {"hyperparameters",
                            {{"embedding_dim", model.embedding_dim},
                             {"hidden_dim", model.hidden_dim},
                             {"window", model.window}}}}},
                         {"vocab", {{"size", model.vocab_size}, {"salt", "bench"}}},
                         {"rounds", 1},
                         {"cohort", {{"size", n}, {"over_selection", 1.0}}},
                         {"deadlines",
                          {{"check_in", 600},
                           {"download_train", 3600},
                           {"advertise", 600},
                           {"share_keys", 600},
                           {"masked_input", 3600},
                           {"unmasking", 600}}}};
  std::ofstream(root + "/task.json") << task.dump();
  int port = 20000 + (::getpid() * 7 + n) % 20000;
  std::string address = "127.0.0.1:" + std::to_string(port);

  pid_t pid = ::fork();
  if (pid == 0) {
    FILE* log = std::freopen((root + "/coordinator.log").c_str(), "w", stderr);
    (void)log;
    ::execl(tool.c_str(), tool.c_str(), "serve", "--config", (root + "/task.json").c_str(),
            "--state", (root + "/state").c_str(), "--pki", (root + "/pki").c_str(), "--listen",
            address.c_str(), "--metrics", "127.0.0.1:0", "--population", std::to_string(n).c_str(),
            "--check-ins-per-minute", "600", nullptr);
    ::_exit(127);
  }
  while (!fs::exists(root + "/state/endpoint.json")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string metrics_address =
      nlohmann::json::parse(ReadAll(root + "/state/endpoint.json")).value("metrics", "");

  std::vector<SimClient> clients(n);
  for (int i = 0; i < n; ++i) {
    clients[i].device = "sim" + std::to_string(i);
    auto id = *tacit::coordinator::IssueDeviceCertificate(ca, clients[i].device, 10);
    clients[i].stub = StubFor(address, ca.cert_pem, id);
    // Signs its advertised keys as a fleet client does; the coordinator drops
    // unsigned clients.
    const std::string credential = *tacit::coordinator::IssueSecAggCredential(ca, id.cert_pem);
    clients[i].signer = std::move(
        *tacit::secagg::CredentialSigner::Create(id.key_pem, tacit::secagg::AsBytes(credential)));
  }
  std::shared_ptr<const tacit::secagg::IdentityVerifier> fleet_verifier =
      std::move(*tacit::secagg::CredentialVerifier::FromPem(ca.cert_pem));
  auto held_hash = tacit::LayoutOf(model)->hash;
  auto start = Clock::now();
  std::atomic<int> assigned{0};
  tacit::ParallelFor(n, static_cast<size_t>(threads) * 8, [&](size_t i) {
    SimClient& c = clients[i];
    tacit::v1::CheckInRequest request;
    request.set_model_version(0);  // holds the initial model: no download
    request.set_layout_hash(held_hash);
    tacit::v1::CheckInResponse response;
    grpc::ClientContext context;
    if (c.stub->CheckIn(&context, request, &response).ok() && response.has_assignment()) {
      c.assignment = response.assignment();
      c.bytes_up += static_cast<int64_t>(request.ByteSizeLong());
      c.bytes_down += static_cast<int64_t>(response.ByteSizeLong());
      ++assigned;
      tacit::secagg::ClientConfig config;
      config.client_id = c.assignment.client_id();
      config.signer = c.signer;
      config.verifier = fleet_verifier;
      const size_t length = static_cast<size_t>(row.parameters);
      uint64_t seed = i + 1;
      c.secagg = *tacit::secagg::SecAggClient::CreateWithProvider(
          config,
          [length, seed]() -> absl::StatusOr<std::vector<float>> {
            std::mt19937_64 rng(seed);  // a stand-in update; never near keys
            std::uniform_real_distribution<float> u(-0.01f, 0.01f);
            std::vector<float> v(length);
            for (float& x : v) x = u(rng);
            return v;
          },
          1.0);
    }
  });
  for (uint32_t step = 0; step < static_cast<uint32_t>(tacit::secagg::kPhaseCount); ++step) {
    tacit::ParallelFor(n, static_cast<size_t>(threads), [&](size_t i) {
      SimClient& c = clients[i];
      if (!c.secagg) return;
      tacit::v1::NextMessageRequest next;
      next.set_session(c.assignment.session());
      next.set_round_id(c.assignment.round_id());
      next.set_step(step);
      tacit::v1::NextMessageResponse response;
      do {
        grpc::ClientContext context;
        if (!c.stub->NextMessage(&context, next, &response).ok()) return c.secagg.reset();
      } while (response.wait());
      c.bytes_down += static_cast<int64_t>(response.ByteSizeLong());
      if (!response.has_message()) return c.secagg.reset();
      auto reply = c.secagg->HandleServerMessage(response.message());
      if (!reply.ok()) return c.secagg.reset();
      tacit::v1::SubmitRequest submit;
      submit.set_session(c.assignment.session());
      submit.set_round_id(c.assignment.round_id());
      *submit.mutable_message() = *std::move(reply);
      c.bytes_up += static_cast<int64_t>(submit.ByteSizeLong());
      grpc::ClientContext context;
      tacit::v1::SubmitResponse ignored;
      if (!c.stub->Submit(&context, submit, &ignored).ok()) c.secagg.reset();
    });
  }
  tacit::v1::RoundResultResponse result;
  for (SimClient& c : clients) {
    if (!c.secagg) continue;
    tacit::v1::RoundResultRequest request;
    request.set_session(c.assignment.session());
    request.set_round_id(c.assignment.round_id());
    do {
      grpc::ClientContext context;
      if (!c.stub->RoundResult(&context, request, &result).ok()) break;
    } while (result.outcome() == tacit::v1::RoundResultResponse::PENDING);
    break;
  }
  row.wall = std::chrono::duration<double>(Clock::now() - start).count();
  row.outcome = tacit::v1::RoundResultResponse::Outcome_Name(result.outcome());
  std::tie(row.coordinator_cpu, row.coordinator_peak_mib) = ProcessUsage(pid);
  // The coordinator's own phase timings, from /status.
  std::string status_out = root + "/status.json";
  std::string command = tool + " status --metrics " + metrics_address + " --json > " + status_out;
  if (std::system(command.c_str()) == 0) {
    row.last_round = nlohmann::json::parse(ReadAll(status_out), nullptr, false)["last_round"];
  }
  for (const SimClient& c : clients) {
    row.bytes_up_per_client += static_cast<double>(c.bytes_up) / n;
    row.bytes_down_per_client += static_cast<double>(c.bytes_down) / n;
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  fs::remove_all(root);
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Coordinator load: N simulated clients over loopback gRPC with mutual TLS"};
  std::string counts = "100,500,1000";
  tacit::ModelConfig model;
  model.name = "gru";
  model.vocab_size = 4096;
  model.embedding_dim = 96;
  model.hidden_dim = 128;
  model.window = 16;
  int threads = 2;
  std::string tool = "build/bin/tacit-coordinator";
  std::string json_out;
  app.add_option("--clients", counts, "Comma-separated client counts")->capture_default_str();
  app.add_option("--vocab", model.vocab_size)->capture_default_str();
  app.add_option("--embedding", model.embedding_dim)->capture_default_str();
  app.add_option("--hidden", model.hidden_dim)->capture_default_str();
  app.add_option("--threads", threads, "Client simulation threads")->capture_default_str();
  app.add_option("--coordinator", tool, "The tacit-coordinator binary")->capture_default_str();
  app.add_option("--json", json_out, "Also write the rows as JSON here");
  CLI11_PARSE(app, argc, argv);

  nlohmann::json rows = nlohmann::json::array();
  std::printf(
      "| clients | params | outcome | select s | advertise s | share s | masked s | "
      "unmask s | round wall s | coord CPU s | coord peak MiB | up/client | "
      "down/client |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& part : absl::StrSplit(counts, ',')) {
    int n = std::stoi(std::string(part));
    Row row = RunOne(n, model, threads, tool);
    nlohmann::json phases = row.last_round.is_object()
                                ? row.last_round.value("phase_seconds", nlohmann::json::array())
                                : nlohmann::json::array();
    auto phase = [&](size_t k) { return phases.size() > k ? phases[k].get<double>() : -1.0; };
    double selection = row.last_round.is_object() ? row.last_round.value("seconds", 0.0) -
                                                        phase(0) - phase(1) - phase(2) - phase(3)
                                                  : -1;
    std::printf(
        "| %d | %lld | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %s | "
        "%s |\n",
        n, static_cast<long long>(row.parameters), row.outcome.c_str(), selection, phase(0),
        phase(1), phase(2), phase(3), row.wall, row.coordinator_cpu, row.coordinator_peak_mib,
        absl::StrFormat("%.1f KiB", row.bytes_up_per_client / 1024).c_str(),
        absl::StrFormat("%.1f KiB", row.bytes_down_per_client / 1024).c_str());
    std::fflush(stdout);
    rows.push_back({{"clients", n},
                    {"parameters", row.parameters},
                    {"outcome", row.outcome},
                    {"phase_seconds", phases},
                    {"round_wall_seconds", row.wall},
                    {"coordinator_cpu_seconds", row.coordinator_cpu},
                    {"coordinator_peak_mib", row.coordinator_peak_mib},
                    {"bytes_up_per_client", row.bytes_up_per_client},
                    {"bytes_down_per_client", row.bytes_down_per_client}});
  }
  if (!json_out.empty()) std::ofstream(json_out) << rows.dump(2) << "\n";
  return 0;
}
