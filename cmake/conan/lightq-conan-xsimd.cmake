# Conan build module of lightq (runs at the end of the CMakeDeps-generated lightq-config.cmake).
# When xsimd is a Conan package, CMakeDeps already links its `xsimd` target. When a profile
# declares xsimd as a platform requirement ([platform_requires] xsimd/8.1.0), CMakeDeps knows
# nothing about it: find the system's xsimd here (its CMake package or the bare header) and link
# it, so lightq::lightq always carries xsimd's include directory.
if(TARGET lightq::lightq AND NOT TARGET xsimd)
  include("${CMAKE_CURRENT_LIST_DIR}/lightqFindXsimd.cmake")
  lightq_find_xsimd(OPTIONAL)
  if(LIGHTQ_XSIMD_FOUND)
    set_property(TARGET lightq::lightq APPEND PROPERTY INTERFACE_LINK_LIBRARIES xsimd)
  else()
    message(WARNING "lightq: xsimd is neither a Conan package nor found on this system")
  endif()
endif()
