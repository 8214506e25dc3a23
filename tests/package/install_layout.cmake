# `cmake --install` of the enclosing build into a fresh prefix, then moves the prefix (the package
# must be relocatable) and checks the layout. Fixture for the find_package and pkg-config tests.
#   cmake -DBUILD_DIR=... -DWORK_DIR=... -DSOURCE_DIR=... -DVERSION=... -P install_layout.cmake
cmake_minimum_required(VERSION 3.16)
include("${CMAKE_CURRENT_LIST_DIR}/package_common.cmake")

file(REMOVE_RECURSE "${WORK_DIR}")
lightq_package_step("install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${WORK_DIR}/staging")
file(RENAME "${WORK_DIR}/staging" "${WORK_DIR}/prefix")
set(prefix "${WORK_DIR}/prefix")

lightq_expect_files("${prefix}"
  include/lightq/lightq.hpp include/lightq/version.hpp include/lightq/core/arch.hpp
  include/lightq/quant/requantize.hpp
  share/cmake/lightq/lightqConfig.cmake share/cmake/lightq/lightqConfigVersion.cmake
  share/cmake/lightq/lightqTargets.cmake share/cmake/lightq/lightqFindXsimd.cmake
  share/pkgconfig/lightq.pc)

# Header-only and architecture-independent: nothing but include/ and share/.
file(GLOB top RELATIVE "${prefix}" "${prefix}/*")
list(SORT top)
if(NOT top STREQUAL "include;share")
  message(FATAL_ERROR "unexpected top-level install entries: ${top}")
endif()
# The version file accepts a 32-bit consumer (ARCH_INDEPENDENT) and the same major.minor only.
function(check_version_file find_version pointer_size expect_ok)
  set(PACKAGE_FIND_VERSION "${find_version}")
  string(REPLACE "." ";" parts "${find_version}")
  list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
  list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
  set(CMAKE_SIZEOF_VOID_P ${pointer_size})
  include("${prefix}/share/cmake/lightq/lightqConfigVersion.cmake")
  if(PACKAGE_VERSION_COMPATIBLE AND NOT PACKAGE_VERSION_UNSUITABLE)
    set(ok TRUE)
  else()
    set(ok FALSE)
  endif()
  if(NOT ok STREQUAL expect_ok)
    message(FATAL_ERROR "lightqConfigVersion.cmake (${PACKAGE_VERSION}) for ${find_version} on a "
      "${pointer_size}-byte-pointer consumer: compatible=${ok}, expected ${expect_ok}")
  endif()
endfunction()
check_version_file("${VERSION}" 4 TRUE)
check_version_file("${VERSION}" 8 TRUE)
check_version_file("999.0.0" 8 FALSE)
lightq_expect_no_paths("${prefix}" "${BUILD_DIR}" "${SOURCE_DIR}" "${WORK_DIR}/staging")

# Every installed header is a source header (nothing generated, nothing missing).
file(GLOB_RECURSE installed RELATIVE "${prefix}/include" "${prefix}/include/*")
file(GLOB_RECURSE sources RELATIVE "${SOURCE_DIR}/include" "${SOURCE_DIR}/include/*.hpp")
list(SORT installed)
list(SORT sources)
if(NOT installed STREQUAL sources)
  message(FATAL_ERROR "installed headers differ from include/:\n${installed}\nvs\n${sources}")
endif()
message(STATUS "layout OK: ${prefix}")
