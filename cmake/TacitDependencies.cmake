# Finds every third-party dependency once, from Debian 12 packages.
# scripts/setup installs them; a missing one fails here with the package name.

find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(Eigen3 3.4 CONFIG REQUIRED)
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(benchmark CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
# SQLCipher is a drop-in SQLite with page encryption. Every module that needs
# SQL links tacit_sql (common/sql), the only target linking PkgConfig::SQLCIPHER;
# never libsqlite3: both define the same sqlite3_* symbols, and the simulator
# links client and coordinator together.
pkg_check_modules(SQLCIPHER REQUIRED IMPORTED_TARGET sqlcipher)

# LibTorch (Debian libtorch-dev). Only models/ and the trainer link it; its
# headers must never leak into headers the rest of the tree includes.
find_package(Torch CONFIG REQUIRED)
# oneDNN (Debian libdnnl-dev; LibTorch already links its libdnnl.so.2): the
# training step's matrix products (models/dnnl_gemm.cc).
find_package(dnnl CONFIG REQUIRED)

find_program(TACIT_PROTOC protoc REQUIRED)
find_program(TACIT_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# Prometheus metrics (Debian prometheus-cpp-dev): only the core library
# (registry, metric types, text serializer) is linked; /metrics is served by
# the operator endpoint's cpp-httplib, not prometheus-cpp's civetweb exposer.
find_package(prometheus-cpp CONFIG REQUIRED)

# Header-only helpers for the operator surface.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(spdlog CONFIG REQUIRED)

# The live X11 collector (client/collector/): Xlib and XInput2. Optional:
# without them tacit-client is built without the collector and
# `tacit-client collect` says so. scripts/setup installs them, so CI has them.
find_package(X11)
if(X11_FOUND AND X11_Xi_FOUND)
  set(TACIT_HAVE_X11_COLLECTOR ON)
else()
  set(TACIT_HAVE_X11_COLLECTOR OFF)
  message(STATUS "tacit: Xlib or XInput2 (libx11-dev, libxi-dev) not found; "
                 "tacit-client is built without the X11 collector")
endif()

# Simulations across processes and machines (simulations/mpi/): Open MPI
# (libopenmpi-dev, mpirun from openmpi-bin). scripts/setup installs it; the
# laptop and the coordinator never link it.
find_package(MPI REQUIRED COMPONENTS CXX)
find_program(TACIT_MPIEXEC NAMES mpirun mpiexec)
