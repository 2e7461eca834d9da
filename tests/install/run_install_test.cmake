# SPDX-License-Identifier: MIT
# cmake -DBUILD_DIR=<distill build tree> -DWORK_DIR=<scratch dir> -DCONSUMER_DIR=<tests/install/consumer>
#       -DCXX=<compiler> -P this file
#
# Installs the build tree into a fresh prefix, then configures, builds and runs the consumer project against
# that prefix only (no package registry, no source tree), and checks what it prints.
foreach(var BUILD_DIR WORK_DIR CONSUMER_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_install_test.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "install test: ${step} failed (${result}):\n${out}${err}")
  endif()
  set(last_output "${out}${err}" PARENT_SCOPE)
endfunction()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f include/distill/core.hpp include/distill/callbacks.hpp share/cmake/distill/distillConfig.cmake
          share/cmake/distill/distillConfigVersion.cmake share/cmake/distill/distillTargets.cmake)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "install test: ${f} was not installed into ${prefix}")
  endif()
endforeach()

set(compiler_arg "")
if(CXX)
  set(compiler_arg "-DCMAKE_CXX_COMPILER=${CXX}")
endif()
# With CUDA_COMPILER (distill built with distill::cuda), the consumer also builds and runs a small .cu program.
set(cuda_args "")
if(CUDA_COMPILER)
  set(cuda_args -DDISTILL_CONSUMER_CUDA=ON "-DCMAKE_CUDA_COMPILER=${CUDA_COMPILER}")
  if(CUDA_ARCHITECTURES)
    list(APPEND cuda_args "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHITECTURES}")
  endif()
endif()
run("configuring the consumer" "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${consumer_build}"
    -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${prefix}" ${compiler_arg} ${cuda_args}
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(NOT last_output MATCHES "found distill 0\\.1\\.[0-9]+ in ([^\n]*)")
  message(FATAL_ERROR "install test: the consumer did not report where it found distill:\n${last_output}")
endif()
set(found_dir "${CMAKE_MATCH_1}")
string(FIND "${found_dir}" "${prefix}" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "install test: the consumer found distill in ${found_dir}, not in the install prefix ${prefix}")
endif()

run("building the consumer" "${CMAKE_COMMAND}" --build "${consumer_build}")
# The consumer must compile against the installed headers, never the source tree.
file(GLOB_RECURSE depfiles "${consumer_build}/*.d" "${consumer_build}/*depend.make" "${consumer_build}/*.internal")
foreach(d ${depfiles})
  file(READ "${d}" deps)
  if(deps MATCHES "distill/core/tensor\\.hpp" AND NOT deps MATCHES "${prefix}/include/distill/core/tensor\\.hpp")
    message(FATAL_ERROR "install test: the consumer compiled against distill headers outside ${prefix} (${d})")
  endif()
endforeach()

set(exe "${consumer_build}/consumer")
run("running the consumer" "${exe}")
if(NOT last_output MATCHES "consumer: sum = 134, step 1/1  loss 50")
  message(FATAL_ERROR "install test: unexpected consumer output:\n${last_output}")
endif()
if(CUDA_COMPILER)
  foreach(f include/distill/cuda/fc_ntk.cuh share/cmake/distill/distillCudaTargets.cmake)
    if(NOT EXISTS "${prefix}/${f}")
      message(FATAL_ERROR "install test: ${f} was not installed into ${prefix}")
    endif()
  endforeach()
  set(consumer_output "${last_output}")
  run("running the CUDA consumer" "${consumer_build}/cuda_consumer")
  if(NOT last_output MATCHES "cuda consumer: (no CUDA device|0\\.818309)")
    message(FATAL_ERROR "install test: unexpected CUDA consumer output:\n${last_output}")
  endif()
  string(APPEND last_output "${consumer_output}")
endif()
message(STATUS "install test passed: ${last_output}")
file(REMOVE_RECURSE "${WORK_DIR}")
