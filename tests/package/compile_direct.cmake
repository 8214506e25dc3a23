# Builds consumer/main.cpp with the compiler alone (no CMake in the consumer), by
#   MODE=pkgconfig: flags from `pkg-config --cflags lightq` (PKG_CONFIG_PATH=<prefix>/share/pkgconfig)
#   MODE=plain:     -I<checkout>/include plus xsimd's include dir when it is not a system one
# then runs it.  cmake -DMODE=... -DCXX=... -DWORK_DIR=... [-DPKG_CONFIG=... -DPREFIX=...
#                       -DVERSION=...] [-DSOURCE_DIR=... -DXSIMD_FLAGS=...] -P compile_direct.cmake
cmake_minimum_required(VERSION 3.16)
include("${CMAKE_CURRENT_LIST_DIR}/package_common.cmake")

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
if(MODE STREQUAL "pkgconfig")
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig")
  lightq_package_step("pkg-config version" "${PKG_CONFIG}" --modversion lightq)
  string(STRIP "${step_output}" found_version)
  if(NOT found_version STREQUAL VERSION)
    message(FATAL_ERROR "pkg-config says lightq ${found_version}, the project is ${VERSION}")
  endif()
  lightq_package_step("pkg-config cflags" "${PKG_CONFIG}" --cflags lightq)
  string(STRIP "${step_output}" cflags)
  separate_arguments(flags UNIX_COMMAND "${cflags}")
  if(NOT cflags MATCHES "-I[^ ]*/include")
    message(FATAL_ERROR "pkg-config --cflags lightq has no include directory: '${cflags}'")
  endif()
elseif(MODE STREQUAL "plain")
  separate_arguments(flags UNIX_COMMAND "-I${SOURCE_DIR}/include ${XSIMD_FLAGS}")
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

lightq_package_step("compile" "${CXX}" -std=c++17 -O2 ${flags}
  "${CMAKE_CURRENT_LIST_DIR}/consumer/main.cpp" -o "${WORK_DIR}/consumer")
lightq_package_step("run" "${WORK_DIR}/consumer")
lightq_expect_ok("${step_output}")
