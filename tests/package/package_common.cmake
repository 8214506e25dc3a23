# Helpers for the package-test scripts (cmake -P).

# Runs a command; prints it and its output; stops the test with its output on failure.
# Leaves the output in step_output.
function(lightq_package_step what)
  string(REPLACE ";" " " shown "${ARGN}")
  message(STATUS "[${what}] ${shown}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "[${what}] failed (${rc}):\n${out}")
  endif()
  string(LENGTH "${out}" n)
  if(n GREATER 4000)
    string(SUBSTRING "${out}" 0 4000 out_head)
    message("${out_head}...")
  else()
    message("${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

function(lightq_expect_ok output)
  if(NOT output MATCHES "lightq consumer OK")
    message(FATAL_ERROR "the consumer did not report success:\n${output}")
  endif()
endfunction()

# Fails unless every path (relative to root) exists.
function(lightq_expect_files root)
  foreach(f IN LISTS ARGN)
    if(NOT EXISTS "${root}/${f}")
      message(FATAL_ERROR "missing ${root}/${f}")
    endif()
  endforeach()
endfunction()

# Fails if a file under root names one of the given absolute paths (a non-relocatable package).
function(lightq_expect_no_paths root)
  file(GLOB_RECURSE files "${root}/*.cmake" "${root}/*.pc")
  foreach(f IN LISTS files)
    file(READ "${f}" text)
    foreach(p IN LISTS ARGN)
      string(FIND "${text}" "${p}" at)
      if(NOT at EQUAL -1)
        message(FATAL_ERROR "${f} names the absolute path ${p}: the package is not relocatable")
      endif()
    endforeach()
  endforeach()
endfunction()
