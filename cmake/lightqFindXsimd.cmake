# Finds xsimd of any supported major version (8.1 from Debian, 13/14 from vcpkg/Conan) and
# provides the `xsimd` target. Shared by the build and the installed lightqConfig.cmake.
#
#   lightq_find_xsimd([OPTIONAL])  sets LIGHTQ_XSIMD_FOUND and LIGHTQ_XSIMD_VERSION; without
#                                  OPTIONAL a missing or too old xsimd is a fatal error.
#   lightq_xsimd_pkgconfig(<requires-var> <cflags-var>)
#                                  what lightq.pc needs to reach xsimd, by LIGHTQ_PKGCONFIG_XSIMD:
#                                  auto (default): `Requires: xsimd` when pkg-config finds an
#                                  xsimd.pc now, else -I flags for its (non-implicit) include
#                                  dirs; requires: always `Requires: xsimd` (package managers,
#                                  whose xsimd ships a .pc); cflags: always the -I flags.
#
# Traps handled (DESIGN.md §9):
#  - find_package(xsimd <version>) rejects other major versions: search without one, check after.
#  - Debian's xsimd 8.1 names `xtl` as a link library without finding it: define an empty
#    INTERFACE target `xtl` when none exists (the xsimd headers lightq uses never include xtl).
#  - No CMake package at all (plain header install, or a cross build that does not see the
#    host's registry): fall back to the header, read the version from xsimd_config.hpp.
include_guard(GLOBAL)

set(LIGHTQ_XSIMD_MINIMUM_VERSION 8.1)

macro(lightq_find_xsimd)
  set(LIGHTQ_XSIMD_FOUND FALSE)
  set(LIGHTQ_XSIMD_VERSION "")
  if(NOT TARGET xsimd)
    find_package(xsimd QUIET CONFIG)
  endif()
  if(TARGET xsimd AND DEFINED xsimd_VERSION AND NOT xsimd_VERSION STREQUAL "")
    set(LIGHTQ_XSIMD_VERSION "${xsimd_VERSION}")
  endif()
  _lightq_find_xsimd_impl("${ARGN}")
endmacro()

function(_lightq_xsimd_fail optional)
  string(JOIN "" msg ${ARGN})
  if(optional STREQUAL "OPTIONAL")
    message(STATUS "lightq: ${msg}")
  else()
    message(FATAL_ERROR "lightq: ${msg}")
  endif()
endfunction()

function(_lightq_find_xsimd_impl optional)
  set(LIGHTQ_XSIMD_FOUND FALSE PARENT_SCOPE)
  set(version "${LIGHTQ_XSIMD_VERSION}")

  if(NOT TARGET xsimd)
    find_path(LIGHTQ_XSIMD_INCLUDE_DIR xsimd/xsimd.hpp
      HINTS ENV XSIMD_INCLUDE_DIR
      PATHS /usr/include /usr/local/include NO_CMAKE_FIND_ROOT_PATH)
    if(NOT LIGHTQ_XSIMD_INCLUDE_DIR)
      _lightq_xsimd_fail("${optional}" "lightq needs xsimd (>= ${LIGHTQ_XSIMD_MINIMUM_VERSION}): "
        "install libxsimd-dev (Debian/Ubuntu), or point xsimd_DIR at its CMake package, or set "
        "LIGHTQ_XSIMD_INCLUDE_DIR to the directory that holds xsimd/xsimd.hpp")
      return()
    endif()
    add_library(xsimd INTERFACE IMPORTED)
    if(CMAKE_CROSSCOMPILING)
      # Do not put the host's /usr/include on a cross compiler's path: expose xsimd alone.
      set(stage "${CMAKE_BINARY_DIR}/_lightq_xsimd_include")
      if(NOT EXISTS "${stage}/xsimd")
        file(MAKE_DIRECTORY "${stage}")
        file(CREATE_LINK "${LIGHTQ_XSIMD_INCLUDE_DIR}/xsimd" "${stage}/xsimd" SYMBOLIC)
      endif()
      set_target_properties(xsimd PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${stage}")
    else()
      set_target_properties(xsimd PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${LIGHTQ_XSIMD_INCLUDE_DIR}")
    endif()
  endif()

  # Version: from the CMake package, else from the header itself.
  if(version STREQUAL "")
    get_target_property(dirs xsimd INTERFACE_INCLUDE_DIRECTORIES)
    foreach(dir IN LISTS dirs)
      set(header "${dir}/xsimd/config/xsimd_config.hpp")
      if(NOT dir MATCHES "\\$<" AND EXISTS "${header}")
        file(STRINGS "${header}" lines REGEX "^#define XSIMD_VERSION_(MAJOR|MINOR|PATCH) [0-9]+")
        set(parts "")
        foreach(part MAJOR MINOR PATCH)
          string(REGEX MATCH "XSIMD_VERSION_${part} ([0-9]+)" _ "${lines}")
          list(APPEND parts "${CMAKE_MATCH_1}")
        endforeach()
        list(JOIN parts "." version)
        break()
      endif()
    endforeach()
  endif()
  if(NOT version STREQUAL "" AND version VERSION_LESS LIGHTQ_XSIMD_MINIMUM_VERSION)
    _lightq_xsimd_fail("${optional}" "lightq needs xsimd >= ${LIGHTQ_XSIMD_MINIMUM_VERSION}, found ${version}")
    return()
  endif()

  # Debian's xsimd 8.1 links `xtl` without finding it.
  get_target_property(links xsimd INTERFACE_LINK_LIBRARIES)
  if(links AND "xtl" IN_LIST links AND NOT TARGET xtl)
    find_package(xtl QUIET CONFIG)
    if(NOT TARGET xtl)
      add_library(xtl INTERFACE IMPORTED)
    endif()
  endif()

  set(LIGHTQ_XSIMD_FOUND TRUE PARENT_SCOPE)
  set(LIGHTQ_XSIMD_VERSION "${version}" PARENT_SCOPE)
endfunction()

function(lightq_xsimd_pkgconfig requires_var cflags_var)
  set(LIGHTQ_PKGCONFIG_XSIMD "auto" CACHE STRING "How lightq.pc reaches xsimd: auto, requires or cflags")
  set_property(CACHE LIGHTQ_PKGCONFIG_XSIMD PROPERTY STRINGS auto requires cflags)
  set(requires "")
  set(cflags "")
  if(LIGHTQ_PKGCONFIG_XSIMD STREQUAL "requires")
    set(requires "xsimd")
  elseif(NOT LIGHTQ_PKGCONFIG_XSIMD STREQUAL "cflags")
    find_package(PkgConfig QUIET)
    if(PKG_CONFIG_FOUND)
      execute_process(COMMAND "${PKG_CONFIG_EXECUTABLE}" --exists xsimd RESULT_VARIABLE rc
                      OUTPUT_QUIET ERROR_QUIET)
      if(rc EQUAL 0)
        set(requires "xsimd")
      endif()
    endif()
  endif()
  if(requires STREQUAL "" AND TARGET xsimd)
    get_target_property(dirs xsimd INTERFACE_INCLUDE_DIRECTORIES)
    foreach(dir IN LISTS dirs)
      if(dir AND NOT dir MATCHES "\\$<" AND NOT dir IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES
         AND NOT dir STREQUAL "/usr/include")
        string(APPEND cflags " -I${dir}")
      endif()
    endforeach()
  endif()
  set(${requires_var} "${requires}" PARENT_SCOPE)
  set(${cflags_var} "${cflags}" PARENT_SCOPE)
endfunction()
