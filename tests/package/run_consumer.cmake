# Configures, builds and runs the consumer project (consumer/) by one route, in a fresh build
# directory, with the compiler and generator of the enclosing build. Run with cmake -P:
#   -DROUTE=find_package|add_subdirectory|fetchcontent -DWORK_DIR=... -DCXX=... -DGENERATOR=...
#   [-DMAKE_PROGRAM=...] [-DBUILD_TYPE=...] [-DPREFIX_PATH=...] [-DEXPECT_DIR=...]
#   [-DSOURCE_DIR=...] [-DFETCH_GIT=... -DFETCH_TAG=...] [-DARCH_FLAGS=... -DARCH_EXPECT=...]
#   [-DEXTRA_ARGS=<;-list of more configure arguments>]
cmake_minimum_required(VERSION 3.16)
include("${CMAKE_CURRENT_LIST_DIR}/package_common.cmake")

file(REMOVE_RECURSE "${WORK_DIR}")
if(FETCH_GIT AND (NOT FETCH_TAG OR FETCH_TAG STREQUAL "HEAD"))
  # The checkout's current commit; FetchContent sees committed files only.
  execute_process(COMMAND git -C "${FETCH_GIT}" rev-parse HEAD OUTPUT_VARIABLE FETCH_TAG
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cannot read HEAD of ${FETCH_GIT}")
  endif()
  execute_process(COMMAND git -C "${FETCH_GIT}" status --porcelain -- include CMakeLists.txt cmake
                  OUTPUT_VARIABLE dirty)
  if(dirty)
    message(STATUS "note: uncommitted changes in ${FETCH_GIT} are not part of this FetchContent test")
  endif()
endif()
set(args -S "${CMAKE_CURRENT_LIST_DIR}/consumer" -B "${WORK_DIR}" -G "${GENERATOR}"
    "-DCMAKE_CXX_COMPILER=${CXX}" "-DLIGHTQ_ROUTE=${ROUTE}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
foreach(pair "CMAKE_MAKE_PROGRAM;MAKE_PROGRAM" "CMAKE_BUILD_TYPE;BUILD_TYPE"
             "CMAKE_PREFIX_PATH;PREFIX_PATH" "LIGHTQ_EXPECT_DIR;EXPECT_DIR"
             "LIGHTQ_SOURCE_DIR;SOURCE_DIR" "LIGHTQ_FETCH_GIT;FETCH_GIT" "LIGHTQ_FETCH_TAG;FETCH_TAG"
             "CONSUMER_ARCH_FLAGS;ARCH_FLAGS")
  list(GET pair 0 cache)
  list(GET pair 1 var)
  if(DEFINED ${var} AND NOT "${${var}}" STREQUAL "")
    list(APPEND args "-D${cache}=${${var}}")
  endif()
endforeach()

lightq_package_step("configure (${ROUTE})" "${CMAKE_COMMAND}" ${args} ${EXTRA_ARGS})
lightq_package_step("build" "${CMAKE_COMMAND}" --build "${WORK_DIR}")
lightq_package_step("run" "${WORK_DIR}/consumer")
lightq_expect_ok("${step_output}")

# The same program built with target-CPU flags: default_arch must follow them. It only runs
# where this CPU can execute that code.
if(ARCH_FLAGS AND step_output MATCHES "best_cpu_arch=([a-z0-9_]+)")
  set(best "${CMAKE_MATCH_1}")
  if((ARCH_EXPECT STREQUAL "avx2" AND best MATCHES "^avx") OR ARCH_EXPECT STREQUAL best)
    lightq_package_step("run with ${ARCH_FLAGS}" "${WORK_DIR}/consumer_arch" "${ARCH_EXPECT}")
    lightq_expect_ok("${step_output}")
  else()
    message(STATUS "this CPU (${best}) cannot run ${ARCH_EXPECT} code: built only")
  endif()
endif()
