#pragma once

// This process's place among the ranks of an MPI run (Open MPI, started with
// `mpirun -np N tacit-sim ...`), and the two ways ranks talk: one protobuf
// message at a time, point to point. MPI errors come back as absl::Status
// (the communicator returns them instead of aborting). Only tacit-sim uses it.

#include <memory>

#include "absl/status/statusor.h"
#include "google/protobuf/message_lite.h"

namespace tacit::sim {

class MpiWorld {
 public:
  // True when mpirun started this process (Open MPI sets
  // OMPI_COMM_WORLD_SIZE); a plain `tacit-sim run` never initializes MPI.
  static bool StartedByMpirun();

  // Initializes MPI once per process. FailedPrecondition when called twice.
  static absl::StatusOr<std::unique_ptr<MpiWorld>> Join(int* argc, char*** argv);
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;
  ~MpiWorld();  // MPI_Finalize

  int rank() const { return rank_; }
  int size() const { return size_; }

  // Sends one message to `to` (blocks until MPI has taken the buffer).
  absl::Status Send(int to, const google::protobuf::MessageLite& message);
  // Receives the next message from `from` into `message`; DataLoss when it
  // does not parse.
  absl::Status Receive(int from, google::protobuf::MessageLite* message);

  // Ends every rank of the run (after an error that leaves ranks waiting).
  [[noreturn]] void Abort(int exit_code);

 private:
  MpiWorld(int rank, int size) : rank_(rank), size_(size) {}
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace tacit::sim
