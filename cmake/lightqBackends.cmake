# Compiler flags of each lightq backend, and the list of backends this build targets.
# Tests and benchmarks add these flags to their own executables; the library never does.
set(LIGHTQ_FLAGS_scalar "")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  # Every AArch64 core has NEON: the scalar reference build must switch it off explicitly.
  set(LIGHTQ_FLAGS_scalar -march=armv8-a+nosimd)
endif()
set(LIGHTQ_FLAGS_avx2 -mavx2 -mfma -mf16c)
set(LIGHTQ_FLAGS_avx512_vnni -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni)
set(LIGHTQ_FLAGS_neon -march=armv8-a)
set(LIGHTQ_FLAGS_neon_dotprod -march=armv8.2-a+dotprod+fp16)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(_lightq_default_backends scalar neon neon_dotprod)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(_lightq_default_backends scalar avx2 avx512_vnni)
else()
  set(_lightq_default_backends scalar)
endif()
# A cache entry (e.g. from a preset: -DLIGHTQ_BACKENDS="scalar;avx512_vnni") wins.
set(LIGHTQ_BACKENDS "${_lightq_default_backends}" CACHE STRING "Backends to build tests and benchmarks for")

# Finds a host header-only package (doctest) for a cross build without exposing /usr/include.
function(lightq_stage_host_header target header_dir)
  set(stage "${CMAKE_BINARY_DIR}/_lightq_host_include_${target}")
  get_filename_component(name "${header_dir}" NAME)
  if(NOT EXISTS "${stage}/${name}")
    file(MAKE_DIRECTORY "${stage}")
    file(CREATE_LINK "${header_dir}" "${stage}/${name}" SYMBOLIC)
  endif()
  add_library(${target} INTERFACE IMPORTED)
  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${stage}")
endfunction()
