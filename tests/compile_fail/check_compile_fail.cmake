# SPDX-License-Identifier: MIT
# cmake -DBUILD_DIR=<build tree> -DTARGET=<object library> -DEXPECT=<regex> [-DMUST_COMPILE=ON] -P this file
#
# Builds one EXCLUDE_FROM_ALL target of the build tree (so it gets exactly the flags, definitions and include
# directories of distill::distill) and passes when the build FAILS and the compiler output matches EXPECT
# (Eigen's failtest). With MUST_COMPILE=ON it is the control: the build must succeed.
foreach(var BUILD_DIR TARGET)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile_fail.cmake: -D${var}=... is required")
  endif()
endforeach()

execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}"
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(log "${out}${err}")

if(MUST_COMPILE)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "control case ${TARGET} failed to compile; the must-not-compile cases prove nothing:\n${log}")
  endif()
  message(STATUS "${TARGET}: compiled, as it must")
  return()
endif()

if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it must not")
endif()
if(NOT log MATCHES "${EXPECT}")
  message(FATAL_ERROR "${TARGET} failed to compile, but the output does not contain /${EXPECT}/:\n${log}")
endif()
message(STATUS "${TARGET}: failed to compile with the expected diagnostic /${EXPECT}/")
