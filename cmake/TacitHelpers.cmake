# Shared build conventions: warnings, test and benchmark registration.

set(TACIT_WARNINGS -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor
                   -Wno-unused-parameter)

# Real per-person data sets live beside the checkout, never in it.
set(TACIT_SHARED_DATA_DIR "${CMAKE_SOURCE_DIR}/../shared/data"
    CACHE PATH "Folder of the shared real interaction data sets")

# tacit_library(NAME SOURCES... DEPS ...): one library per module.
function(tacit_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC "${CMAKE_SOURCE_DIR}")
  target_compile_options(${name} PRIVATE ${TACIT_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# tacit_test(NAME SOURCES... DEPS ... [TIMEOUT s] [LABELS ...]): one GoogleTest
# executable registered with ctest. Tests get TACIT_SHARED_DATA_DIR and
# TACIT_BINARY_DIR so they can find real data and built tools.
function(tacit_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${TACIT_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} tacit_test_support
                                        GTest::gtest GTest::gmock GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "TACIT_SHARED_DATA_DIR=${TACIT_SHARED_DATA_DIR};TACIT_BINARY_DIR=${CMAKE_BINARY_DIR}")
  if(ARG_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()

# tacit_bench(NAME SOURCES... DEPS ...): a benchmark binary in build/bench/.
function(tacit_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${TACIT_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                                           "${CMAKE_BINARY_DIR}/bench")
endfunction()

# tacit_tool(NAME SOURCES... DEPS ...): a user-facing program in build/bin/.
function(tacit_tool name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${TACIT_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                                           "${CMAKE_BINARY_DIR}/bin")
endfunction()
