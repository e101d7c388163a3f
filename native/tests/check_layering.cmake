# The layering rules of the core (DESIGN.md, STYLE.md), checked on the sources (ctest check_layering):
#  * ops/ reaches the interpreters only through their rule interface, interp/rules.h;
#  * interpreters and backends never name an op (OpId::...): rules live in op definitions and
#    kernels are named by them (backends/kernels.h), so no switch there grows with the op set.
# Run as: cmake -DSRC=<native/src> -P check_layering.cmake
set(bad "")
file(GLOB ops_files ${SRC}/ops/*)
foreach(f ${ops_files})
  file(STRINGS ${f} lines REGEX "^#include \"interp/")
  foreach(l ${lines})
    if(NOT l MATCHES "interp/rules.h")
      list(APPEND bad "${f}: ${l} (ops/ includes only interp/rules.h)")
    endif()
  endforeach()
endforeach()
file(GLOB_RECURSE layer_files ${SRC}/interp/* ${SRC}/backends/*)
foreach(f ${layer_files})
  file(STRINGS ${f} lines REGEX "OpId::[A-Z]")
  foreach(l ${lines})
    list(APPEND bad "${f}: ${l} (interpreters and backends never name an op)")
  endforeach()
endforeach()
if(bad)
  list(JOIN bad "\n" msg)
  message(FATAL_ERROR "layering violations:\n${msg}")
endif()
message(STATUS "layering: ops/ uses interp/rules.h only; interp/ and backends/ name no op")
