#pragma once

// Real processes for the integration tests: a temporary fleet (PKI, task
// config, client folders with synthetic-fleet events in their encrypted
// stores), the built tacit-coordinator and tacit-client started as child
// processes on loopback, and a TLS gRPC stub for a test-driven client.

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tacit/v1/federation.grpc.pb.h"

namespace tacit::testing {

// A child process; killed (SIGKILL) when destroyed while still running.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool running();
  // Exit code, or -1 when still running after `timeout_s`, 128+sig if killed.
  int Wait(double timeout_s);
  void Kill(int signal);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
};

// A whole file; empty when it cannot be read.
std::string ReadFile(const std::string& path);

// Polls `condition` every 20 ms until it holds (true) or `timeout_s` passes.
bool WaitUntil(double timeout_s, const std::function<bool()>& condition);

// Runs a tool to completion; returns its exit code and output (stdout+stderr).
int RunTool(const std::vector<std::string>& argv, std::string* output);

std::string ToolPath(const std::string& name);  // build/bin/NAME
int FreeLoopbackPort();

class Fleet {
 public:
  // A temporary folder with a PKI (server names localhost, 127.0.0.1).
  explicit Fleet(const std::string& name);
  ~Fleet();

  const std::string& root() const { return root_; }
  std::string pki() const { return root_ + "/pki"; }
  std::string state() const { return root_ + "/state"; }
  std::string ClientDir(const std::string& device) const { return root_ + "/clients/" + device; }
  std::string LogPath(const std::string& name) const { return root_ + "/logs/" + name + ".log"; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // The tiny test task: gru embedding 16, hidden 24, window 16, vocab 256.
  std::string WriteTask(const nlohmann::json& overrides);

  // Issues a certificate, fills the device's store with `events` generated
  // events of fleet person `index`, and enrolls it with the coordinator.
  void AddDevice(const std::string& device, int index, int64_t events);

  std::unique_ptr<ChildProcess> StartCoordinator(const std::string& task_path, bool exit_when_done,
                                                 const std::string& log_name = "coordinator");
  std::unique_ptr<ChildProcess> StartClient(const std::string& device,
                                            std::vector<std::string> extra = {});
  // Waits until the coordinator's endpoint.json names the gRPC port and the
  // service answers /status.
  bool WaitServing(double timeout_s);
  // `tacit-coordinator status --state --json` of the running coordinator;
  // null when none answers.
  nlohmann::json Status();
  // What the device's `tacit-client run` says it is doing (its daemon.json:
  // state, round, detail); an empty object before it wrote one.
  nlohmann::json ClientProgress(const std::string& device) const;

  // A stub for a device whose cert and key are given in PEM (the test then
  // acts as that client); empty cert/key: no client certificate at all.
  std::unique_ptr<v1::Federation::Stub> Stub(const std::string& ca_pem, const std::string& cert_pem,
                                             const std::string& key_pem);
  std::unique_ptr<v1::Federation::Stub> DeviceStub(const std::string& device);

 private:
  std::string root_;
  int port_;
};

// When the coordinator whose log is `log_path` first logged `event`
// (seconds since the epoch, from the line's "time"); -1 when it never did.
double CoordinatorEventTime(const std::string& log_path, const std::string& event);

// The lines of a client's audit.log, oldest first.
std::vector<nlohmann::json> AuditLines(const std::string& client_dir);

// A test-driven client's check-in as an eligible device with no model.
grpc::StatusCode CheckInCode(v1::Federation::Stub& stub, v1::CheckInResponse* response);
// Checks in until seated in round `round_number` (a test failure if never).
v1::Assignment SeatIn(v1::Federation::Stub& stub, int64_t round_number);

}  // namespace tacit::testing
