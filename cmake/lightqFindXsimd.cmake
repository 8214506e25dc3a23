# Finds xsimd of any supported major version (8.1 from Debian, 13/14 from vcpkg/Conan) and
# provides the `xsimd` target. Shared by the build and the installed lightqConfig.cmake.
#
# Traps handled (DESIGN.md §9):
#  - find_package(xsimd <version>) rejects other major versions: search without one, check after.
#  - Debian's xsimd 8.1 names `xtl` as a link library without finding it: define an empty
#    INTERFACE target `xtl` when none exists.
#  - Cross builds (aarch64) may not see the host's package registry: fall back to the header.
macro(lightq_find_xsimd)
  if(NOT TARGET xsimd)
    find_package(xsimd QUIET CONFIG)
  endif()
  if(NOT TARGET xsimd)
    find_path(LIGHTQ_XSIMD_INCLUDE_DIR xsimd/xsimd.hpp
      HINTS ${LIGHTQ_XSIMD_INCLUDE_DIR} ENV XSIMD_INCLUDE_DIR
      PATHS /usr/include /usr/local/include NO_CMAKE_FIND_ROOT_PATH)
    if(NOT LIGHTQ_XSIMD_INCLUDE_DIR)
      message(FATAL_ERROR "lightq needs xsimd (>= 8.1): install libxsimd-dev or set LIGHTQ_XSIMD_INCLUDE_DIR")
    endif()
    add_library(xsimd INTERFACE IMPORTED)
    if(CMAKE_CROSSCOMPILING)
      # Do not put the host's /usr/include on a cross compiler's path: expose xsimd alone.
      set(_lightq_xsimd_stage "${CMAKE_BINARY_DIR}/_lightq_xsimd_include")
      if(NOT EXISTS "${_lightq_xsimd_stage}/xsimd")
        file(MAKE_DIRECTORY "${_lightq_xsimd_stage}")
        file(CREATE_LINK "${LIGHTQ_XSIMD_INCLUDE_DIR}/xsimd" "${_lightq_xsimd_stage}/xsimd" SYMBOLIC)
      endif()
      set_target_properties(xsimd PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_lightq_xsimd_stage}")
    else()
      set_target_properties(xsimd PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${LIGHTQ_XSIMD_INCLUDE_DIR}")
    endif()
  endif()
  get_target_property(_lightq_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
  if(_lightq_xsimd_links AND "xtl" IN_LIST _lightq_xsimd_links AND NOT TARGET xtl)
    find_package(xtl QUIET CONFIG)
    if(NOT TARGET xtl)
      add_library(xtl INTERFACE IMPORTED)
    endif()
  endif()
  if(DEFINED xsimd_VERSION AND xsimd_VERSION VERSION_LESS 8.1)
    message(FATAL_ERROR "lightq needs xsimd >= 8.1, found ${xsimd_VERSION}")
  endif()
endmacro()
