# Runs what `vcpkg install lightq --overlay-ports=ports` does with ports/lightq/portfile.cmake,
# without vcpkg (it cannot be installed on the project's machines):
#   1. vcpkg_cmake_configure: configure the checkout with the portfile's own OPTIONS (read from
#      the portfile, so they cannot drift) plus the variables vcpkg always sets, Release only;
#   2. vcpkg_cmake_install: build the install target into packages/lightq_<triplet>;
#   3. vcpkg_cmake_config_fixup(CONFIG_PATH <from the portfile>): move the config files to
#      share/lightq and correct their prefix computation, as vcpkg does;
#   4. the usage file and the copyright;
# then checks the layout vcpkg's post-build checks want, the port's version against
# version.hpp, and builds the consumer with find_package(lightq) against the result.
#   cmake -DSOURCE_DIR=... -DWORK_DIR=... -DCXX=... -DGENERATOR=... [-DMAKE_PROGRAM=...]
#         -DVERSION=... -P vcpkg_port.cmake
cmake_minimum_required(VERSION 3.16)
include("${CMAKE_CURRENT_LIST_DIR}/package_common.cmake")

set(port_dir "${SOURCE_DIR}/ports/lightq")
set(triplet "x64-linux")
set(packages "${WORK_DIR}/packages/lightq_${triplet}")
set(buildtree "${WORK_DIR}/buildtrees/lightq/${triplet}-rel")
file(REMOVE_RECURSE "${WORK_DIR}")

# The port's version must be the project's (include/lightq/version.hpp).
file(READ "${port_dir}/vcpkg.json" manifest)
if(NOT manifest MATCHES "\"version(-semver|-string)?\" *: *\"([^\"]+)\"")
  message(FATAL_ERROR "no version in ports/lightq/vcpkg.json")
endif()
if(NOT CMAKE_MATCH_2 STREQUAL VERSION)
  message(FATAL_ERROR "ports/lightq/vcpkg.json has version ${CMAKE_MATCH_2}, version.hpp says ${VERSION}: "
    "update the port (docs/release.md)")
endif()
if(NOT manifest MATCHES "\"xsimd\"")
  message(FATAL_ERROR "ports/lightq/vcpkg.json does not depend on xsimd")
endif()

# The portfile's configure options and config path.
file(READ "${port_dir}/portfile.cmake" portfile)
if(NOT portfile MATCHES "vcpkg_cmake_configure\\(([^)]*)\\)")
  message(FATAL_ERROR "no vcpkg_cmake_configure(...) in the portfile")
endif()
string(REGEX MATCHALL "-D[A-Za-z0-9_]+(:[A-Z]+)?=[^ \t\r\n)]*" port_options "${CMAKE_MATCH_1}")
if(NOT portfile MATCHES "vcpkg_cmake_config_fixup\\([^)]*CONFIG_PATH +([^ )]+)")
  message(FATAL_ERROR "no vcpkg_cmake_config_fixup(CONFIG_PATH ...) in the portfile")
endif()
set(config_path "${CMAKE_MATCH_1}")
message(STATUS "portfile options: ${port_options}; CONFIG_PATH ${config_path}")

# 1 + 2. vcpkg_cmake_configure / vcpkg_cmake_install (release only: VCPKG_BUILD_TYPE release).
set(generator_args -G "${GENERATOR}")
if(MAKE_PROGRAM)
  list(APPEND generator_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
lightq_package_step("vcpkg_cmake_configure" "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${buildtree}"
  ${generator_args} "-DCMAKE_CXX_COMPILER=${CXX}" ${port_options}
  -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=${packages}"
  -DCMAKE_INSTALL_BINDIR:STRING=bin -DCMAKE_INSTALL_LIBDIR:STRING=lib
  -DFETCHCONTENT_FULLY_DISCONNECTED=ON -DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=ON
  -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON -DCMAKE_VERBOSE_MAKEFILE=ON)
lightq_package_step("vcpkg_cmake_install" "${CMAKE_COMMAND}" --build "${buildtree}" --target install)

# 3. vcpkg_cmake_config_fixup: share/cmake/lightq -> share/lightq, parent 'cmake' removed,
#    prefix computations corrected for the new depth (prefix/share/lightq).
set(share "${packages}/share/lightq")
if(NOT EXISTS "${packages}/${config_path}/lightqConfig.cmake")
  message(FATAL_ERROR "no lightqConfig.cmake in ${config_path}")
endif()
if(NOT config_path STREQUAL "share/lightq")
  file(GLOB config_files "${packages}/${config_path}/*")
  file(COPY ${config_files} DESTINATION "${share}")
  file(REMOVE_RECURSE "${packages}/${config_path}")
  get_filename_component(parent "${packages}/${config_path}" DIRECTORY)
  get_filename_component(parent_name "${parent}" NAME)
  if(parent_name STREQUAL "cmake")
    file(REMOVE_RECURSE "${parent}")
  endif()
endif()
file(GLOB_RECURSE cmake_files "${share}/*.cmake")
set(import_prefix_fixed [[get_filename_component(_IMPORT_PREFIX "${CMAKE_CURRENT_LIST_FILE}" PATH)
get_filename_component(_IMPORT_PREFIX "${_IMPORT_PREFIX}" PATH)
get_filename_component(_IMPORT_PREFIX "${_IMPORT_PREFIX}" PATH)]])
foreach(f IN LISTS cmake_files)
  file(READ "${f}" text)
  string(REGEX REPLACE
    "get_filename_component\\(_IMPORT_PREFIX \"\\\${CMAKE_CURRENT_LIST_FILE}\" PATH\\)(\nget_filename_component\\(_IMPORT_PREFIX \"\\\${_IMPORT_PREFIX}\" PATH\\))*"
    "${import_prefix_fixed}" text "${text}")
  string(REGEX REPLACE
    "get_filename_component\\(PACKAGE_PREFIX_DIR \"\\\${CMAKE_CURRENT_LIST_DIR}/\\.\\./(\\.\\./)*\" ABSOLUTE\\)"
    "get_filename_component(PACKAGE_PREFIX_DIR \"\${CMAKE_CURRENT_LIST_DIR}/../../\" ABSOLUTE)" text "${text}")
  string(REPLACE "${packages}" "\${_IMPORT_PREFIX}" text "${text}")
  file(WRITE "${f}" "${text}")
endforeach()

# 4. usage and copyright.
file(COPY "${port_dir}/usage" DESTINATION "${share}")
file(COPY "${SOURCE_DIR}/LICENSE" DESTINATION "${share}")
file(RENAME "${share}/LICENSE" "${share}/copyright")

# The layout vcpkg expects from a header-only port.
lightq_expect_files("${packages}" include/lightq/lightq.hpp
  share/lightq/lightqConfig.cmake share/lightq/lightqConfigVersion.cmake
  share/lightq/lightqTargets.cmake share/lightq/lightqFindXsimd.cmake
  share/lightq/usage share/lightq/copyright share/pkgconfig/lightq.pc)
foreach(unwanted share/cmake lib bin debug)
  if(EXISTS "${packages}/${unwanted}")
    message(FATAL_ERROR "the port would install ${unwanted}/ (header-only: include/ and share/ only)")
  endif()
endforeach()
file(GLOB_RECURSE dirs LIST_DIRECTORIES true "${packages}/*")
foreach(d IN LISTS dirs)
  file(GLOB entries "${d}/*")
  if(IS_DIRECTORY "${d}" AND NOT entries)
    # vcpkg's post-build checks reject empty directories. A clean clone has none (git keeps no
    # empty directory); a working tree may, and then so does the install.
    message(WARNING "empty directory in the package: ${d} (empty in the source tree?)")
  endif()
endforeach()
lightq_expect_no_paths("${packages}" "${packages}" "${SOURCE_DIR}" "${buildtree}")
# lightq.pc must reach vcpkg's xsimd through its xsimd.pc, never through an absolute -I path.
file(READ "${packages}/share/pkgconfig/lightq.pc" pc)
if(NOT pc MATCHES "\nRequires: xsimd\n" OR pc MATCHES "Cflags:[^\n]* -I/")
  message(FATAL_ERROR "lightq.pc of the port does not require xsimd.pc:\n${pc}")
endif()

# vcpkg copies the package into installed/<triplet>; a user's project then finds it there.
set(installed "${WORK_DIR}/installed/${triplet}")
file(COPY "${packages}/" DESTINATION "${installed}")
set(consumer_args "-DCXX=${CXX}" "-DGENERATOR=${GENERATOR}" -DBUILD_TYPE=Release -DROUTE=find_package
  "-DWORK_DIR=${WORK_DIR}/consumer" "-DPREFIX_PATH=${installed}" "-DEXPECT_DIR=${installed}/share/lightq")
if(MAKE_PROGRAM)
  list(APPEND consumer_args "-DMAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
lightq_package_step("consumer of installed/${triplet}" "${CMAKE_COMMAND}" ${consumer_args}
  -P "${CMAKE_CURRENT_LIST_DIR}/run_consumer.cmake")
lightq_expect_ok("${step_output}")
message(STATUS "vcpkg port layout OK: ${packages}")
