#include "tests/integration/fleet_harness.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

#include "client/generator/fleet_generator.h"
#include "client/privacy_filter.h"
#include "client/runtime/coordinator_pin.h"
#include "client/store/event_store.h"
#include "tests/support/shared_data.h"

namespace tacit::testing {
namespace {

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log_path, int* pipe_read) {
  int fds[2] = {-1, -1};
  if (pipe_read != nullptr && ::pipe(fds) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    int out = pipe_read != nullptr ? fds[1]
                                   : ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(out, 1);
    ::dup2(out, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (pipe_read != nullptr) {
    ::close(fds[1]);
    *pipe_read = fds[0];
  }
  return pid;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::string& log_path) {
  pid_ = Spawn(argv, log_path, nullptr);
}

ChildProcess::~ChildProcess() {
  if (running()) Kill(SIGKILL);
  Wait(10);
}

bool ChildProcess::running() {
  if (reaped_ || pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return r == 0;
}

int ChildProcess::Wait(double timeout_s) {
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (running()) {
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return status_;
}

void ChildProcess::Kill(int signal) {
  if (!reaped_ && pid_ > 0) ::kill(pid_, signal);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

double CoordinatorEventTime(const std::string& log_path, const std::string& event) {
  std::ifstream in(log_path);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object() || parsed.value("event", "") != event) continue;
    // coordinator/structured_log.cc: "%Y-%m-%dT%H:%M:%S.%e%z", e.g.
    // 2026-12-01T10:20:30.123+0000.
    const std::string time = parsed.value("time", "");
    std::tm tm{};
    int millis = 0;
    int offset = 0;
    if (std::sscanf(time.c_str(), "%d-%d-%dT%d:%d:%d.%d%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis, &offset) != 8) {
      return -1;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const int offset_seconds = (offset / 100) * 3600 + (offset % 100) * 60;
    return static_cast<double>(::timegm(&tm) - offset_seconds) + millis / 1000.0;
  }
  return -1;
}

bool WaitUntil(double timeout_s, const std::function<bool()>& condition) {
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

int RunTool(const std::vector<std::string>& argv, std::string* output) {
  int read_fd = -1;
  pid_t pid = Spawn(argv, "", &read_fd);
  if (pid < 0) return -1;
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(read_fd, buffer, sizeof(buffer))) > 0) text.append(buffer, n);
  ::close(read_fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (output != nullptr) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ToolPath(const std::string& name) { return BinaryDir() + "/bin/" + name; }

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

Fleet::Fleet(const std::string& name) : port_(FreeLoopbackPort()) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / ("tacit-" + name + "-XXXXXX")).string();
  root_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  std::filesystem::create_directories(root_ + "/logs");
  std::filesystem::create_directories(root_ + "/clients");
  RunTool({ToolPath("tacit-coordinator"), "pki", "init", pki(), "--server-name", "localhost",
           "--server-name", "127.0.0.1"},
          nullptr);
}

Fleet::~Fleet() {
  if (std::getenv("TACIT_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
}

std::string Fleet::WriteTask(const nlohmann::json& overrides) {
  nlohmann::json task = {
      {"name", "integration"},
      {"model",
       {{"name", "gru"},
        {"hyperparameters", {{"embedding_dim", 16}, {"hidden_dim", 24}, {"window", 16}}}}},
      {"vocab", {{"size", 256}, {"salt", "integration-salt"}}},
      {"rounds", 3},
      {"cohort", {{"size", 4}, {"over_selection", 1.0}, {"min_survivors", 3}}},
      {"deadlines",
       {{"check_in", 60},  // cohorts fill up: selection closes when full
        {"download_train", 20},
        {"advertise", 3},
        {"share_keys", 5},
        {"masked_input", 5},
        {"unmasking", 5}}},
      {"training", {{"epochs", 1}, {"batch_size", 16}, {"lr", 0.05}, {"max_seconds", 4}}},
      {"eligibility",
       {{"require_ac_power", false},
        {"min_idle_minutes", 0},
        {"unmetered_only", false},
        {"min_battery_percent", 0}}}};
  task.merge_patch(overrides);
  std::string path = root_ + "/task.json";
  std::ofstream(path) << task.dump(2);
  return path;
}

void Fleet::AddDevice(const std::string& device, int index, int64_t events) {
  RunTool({ToolPath("tacit-coordinator"), "pki", "issue", device, "--dir", pki()}, nullptr);
  const std::string dir = ClientDir(device);
  std::filesystem::create_directories(dir);
  {
    auto store = EventStore::OpenInDirectory(dir);
    if (!store.ok()) return;
    PrivacyFilter filter;
    std::vector<Event> kept;
    FleetGenerator generator(7);
    (void)generator.Generate(index, events, [&](const RawEvent& raw) {
      if (auto event = filter.Apply(raw)) kept.push_back(*event);
      return absl::OkStatus();
    });
    (void)(*store)->Append(kept);
  }
  // Enrolled before the coordinator serves: the server certificate's
  // fingerprint is pinned from the PKI folder, as an operator would hand it out.
  absl::StatusOr<std::string> fingerprint =
      runtime::CertificateFingerprint(ReadFile(pki() + "/server.crt"));
  RunTool({ToolPath("tacit-client"), "--dir", dir, "enroll", "--coordinator", address(), "--ca",
           pki() + "/ca.crt", "--cert", pki() + "/devices/" + device + ".crt", "--key",
           pki() + "/devices/" + device + ".key", "--credential",
           pki() + "/devices/" + device + ".cred", "--server-name", "localhost",
           "--server-fingerprint", fingerprint.ok() ? *fingerprint : "unreadable"},
          nullptr);
}

std::unique_ptr<ChildProcess> Fleet::StartCoordinator(const std::string& task_path,
                                                      bool exit_when_done,
                                                      const std::string& log_name) {
  std::vector<std::string> argv = {ToolPath("tacit-coordinator"),
                                   "serve",
                                   "--config",
                                   task_path,
                                   "--state",
                                   state(),
                                   "--pki",
                                   pki(),
                                   "--listen",
                                   address(),
                                   "--metrics",
                                   "127.0.0.1:0",
                                   "--long-poll-seconds",
                                   "2",
                                   "--check-ins-per-minute",
                                   "600"};
  if (exit_when_done) argv.push_back("--exit-when-done");
  std::error_code ignored;
  std::filesystem::remove(state() + "/endpoint.json", ignored);
  return std::make_unique<ChildProcess>(argv, LogPath(log_name));
}

std::unique_ptr<ChildProcess> Fleet::StartClient(const std::string& device,
                                                 std::vector<std::string> extra) {
  std::vector<std::string> argv = {ToolPath("tacit-client"),
                                   "--dir",
                                   ClientDir(device),
                                   "run",
                                   "--check-seconds",
                                   "1",
                                   "--max-backoff-seconds",
                                   "2",
                                   "--max-retry-seconds",
                                   "1",
                                   "--exit-when-task-complete",
                                   "--check-in-jitter-seconds",
                                   "0.2"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<ChildProcess>(argv, LogPath(device));
}

bool Fleet::WaitServing(double timeout_s) {
  auto until = std::chrono::steady_clock::now() +
               std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (std::chrono::steady_clock::now() < until) {
    if (std::filesystem::exists(state() + "/endpoint.json") && !Status().is_null()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

nlohmann::json Fleet::Status() {
  std::string output;
  if (RunTool({ToolPath("tacit-coordinator"), "status", "--state", state(), "--json"}, &output) !=
      0) {
    return nullptr;
  }
  nlohmann::json status = nlohmann::json::parse(output, nullptr, false);
  // `status --state` also answers from the state folder alone; the tests ask
  // the running coordinator.
  if (status.is_discarded() || status.value("coordinator", "").rfind("running", 0) != 0) {
    return nlohmann::json();
  }
  return status;
}

nlohmann::json Fleet::ClientProgress(const std::string& device) const {
  // daemon.json is replaced atomically (rename), so a read sees a whole file.
  nlohmann::json progress = nlohmann::json::parse(ReadFile(ClientDir(device) + "/daemon.json"),
                                                  nullptr, /*allow_exceptions=*/false);
  return progress.is_object() ? progress : nlohmann::json::object();
}

std::unique_ptr<v1::Federation::Stub> Fleet::Stub(const std::string& ca_pem,
                                                  const std::string& cert_pem,
                                                  const std::string& key_pem) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ca_pem;
  tls.pem_cert_chain = cert_pem;
  tls.pem_private_key = key_pem;
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  return v1::Federation::NewStub(
      grpc::CreateCustomChannel(address(), grpc::SslCredentials(tls), args));
}

std::unique_ptr<v1::Federation::Stub> Fleet::DeviceStub(const std::string& device) {
  return Stub(ReadFile(pki() + "/ca.crt"), ReadFile(pki() + "/devices/" + device + ".crt"),
              ReadFile(pki() + "/devices/" + device + ".key"));
}

std::vector<nlohmann::json> AuditLines(const std::string& client_dir) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(client_dir + "/audit.log");
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

grpc::StatusCode CheckInCode(v1::Federation::Stub& stub, v1::CheckInResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::CheckInRequest request;
  request.set_model_version(-1);
  return stub.CheckIn(&context, request, response).error_code();
}

// Checks in until seated in round `round_number`.
v1::Assignment SeatIn(v1::Federation::Stub& stub, int64_t round_number) {
  for (int i = 0; i < 600; ++i) {
    v1::CheckInResponse response;
    if (CheckInCode(stub, &response) == grpc::StatusCode::OK && response.has_assignment() &&
        response.assignment().round_number() == round_number) {
      return response.assignment();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ADD_FAILURE() << "never seated in round " << round_number;
  return v1::Assignment();
}

}  // namespace tacit::testing
