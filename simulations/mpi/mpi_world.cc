#include "simulations/mpi/mpi_world.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tacit::sim {
namespace {

constexpr int kTag = 17;  // one conversation per pair of ranks: order is MPI's

absl::Status MpiError(const char* what, int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  return absl::UnavailableError(
      absl::StrCat(what, " failed: ", std::string(text, static_cast<size_t>(length))));
}

}  // namespace

bool MpiWorld::StartedByMpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
}

absl::StatusOr<std::unique_ptr<MpiWorld>> MpiWorld::Join(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return absl::FailedPreconditionError("MPI is already initialized");
  if (int code = MPI_Init(argc, argv); code != MPI_SUCCESS) return MpiError("MPI_Init", code);
  // Errors are returned, not fatal: the caller says what failed and where.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return std::unique_ptr<MpiWorld>(new MpiWorld(rank, size));
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

absl::Status MpiWorld::Send(int to, const google::protobuf::MessageLite& message) {
  const size_t bytes = message.ByteSizeLong();
  if (bytes > static_cast<size_t>(INT_MAX)) {
    return absl::ResourceExhaustedError(absl::StrCat("a ", bytes, "-byte message to rank ", to,
                                                     " is above MPI's 2 GiB per message"));
  }
  std::string buffer;
  if (!message.SerializeToString(&buffer)) {
    return absl::InternalError(absl::StrCat("cannot serialize a message to rank ", to));
  }
  int code =
      MPI_Send(buffer.data(), static_cast<int>(buffer.size()), MPI_BYTE, to, kTag, MPI_COMM_WORLD);
  if (code != MPI_SUCCESS) return MpiError(absl::StrCat("MPI_Send to rank ", to).c_str(), code);
  return absl::OkStatus();
}

absl::Status MpiWorld::Receive(int from, google::protobuf::MessageLite* message) {
  // Open MPI's blocking probe spins a core at 100% while waiting: rank 0
  // waits through every round's training and a shard rank between rounds,
  // so on a shared or oversubscribed machine the spinning rank would take
  // the core the training ranks need (measured: 2 processes 2.4x slower than
  // one). Poll instead, sleeping 50 us at first and up to 2 ms: a message
  // waits at most 2 ms longer, a few per phase.
  MPI_Status status;
  auto nap = std::chrono::microseconds(50);
  for (int arrived = 0; !arrived;) {
    if (int code = MPI_Iprobe(from, kTag, MPI_COMM_WORLD, &arrived, &status); code != MPI_SUCCESS) {
      return MpiError(absl::StrCat("MPI_Iprobe from rank ", from).c_str(), code);
    }
    if (!arrived) {
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::microseconds(2000));
    }
  }
  int count = 0;
  MPI_Get_count(&status, MPI_BYTE, &count);
  std::vector<char> buffer(static_cast<size_t>(count));
  if (int code =
          MPI_Recv(buffer.data(), count, MPI_BYTE, from, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      code != MPI_SUCCESS) {
    return MpiError(absl::StrCat("MPI_Recv from rank ", from).c_str(), code);
  }
  if (!message->ParseFromArray(buffer.data(), count)) {
    return absl::DataLossError(
        absl::StrCat("a ", count, "-byte message from rank ", from, " does not parse"));
  }
  return absl::OkStatus();
}

void MpiWorld::Abort(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::exit(exit_code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
}

}  // namespace tacit::sim
