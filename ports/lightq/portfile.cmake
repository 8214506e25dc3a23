# vcpkg overlay port of lightq, built from this checkout (the port lives in <checkout>/ports/lightq):
#   vcpkg install lightq --overlay-ports=<checkout>/ports
# Header-only: one release configuration, nothing in lib/ or debug/.
# tests/package/vcpkg_port.cmake runs the same CMake configure/install with the OPTIONS below
# and checks the layout that vcpkg_cmake_config_fixup expects (vcpkg itself cannot be installed
# on the project's machines).
set(VCPKG_BUILD_TYPE release)

get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/lightq/lightq.hpp")
  message(FATAL_ERROR "ports/lightq must stay inside a lightq checkout (no ${SOURCE_PATH}/include/lightq)")
endif()

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    -DLIGHTQ_BUILD_TESTS=OFF
    -DLIGHTQ_BUILD_BENCHMARKS=OFF
    -DLIGHTQ_BUILD_EXAMPLES=OFF
    -DLIGHTQ_BUILD_PACKAGE_TESTS=OFF
    -DLIGHTQ_INSTALL=ON
    -DLIGHTQ_PKGCONFIG_XSIMD=requires
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/cmake/lightq)
vcpkg_fixup_pkgconfig()

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
