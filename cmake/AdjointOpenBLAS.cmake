# OpenBLAS comes from the org.bytedeco:openblas preset jar (unpacked by Maven), never from the
# system. The jar's CMake config and .pc files point at its build machine, so we link by full path.
# Input: OPENBLAS_DIR = .../org/bytedeco/openblas/<platform> (holds include/ and libopenblas.so.0).
if(NOT OPENBLAS_DIR)
  message(FATAL_ERROR "Set -DOPENBLAS_DIR to the unpacked org/bytedeco/openblas/<platform> folder")
endif()
set(OPENBLAS_INCLUDE_DIR ${OPENBLAS_DIR}/include)
set(OPENBLAS_LIBRARY ${OPENBLAS_DIR}/libopenblas.so.0)
if(NOT EXISTS ${OPENBLAS_LIBRARY} OR NOT EXISTS ${OPENBLAS_INCLUDE_DIR}/cblas.h)
  message(FATAL_ERROR "OpenBLAS not found under ${OPENBLAS_DIR}")
endif()
add_library(openblas_imported SHARED IMPORTED)
set_target_properties(openblas_imported PROPERTIES IMPORTED_LOCATION ${OPENBLAS_LIBRARY} IMPORTED_NO_SONAME OFF)
# JavaCPP links the JNI library with -lopenblas: give that name a file on a link path we own.
set(OPENBLAS_LINK_DIR ${CMAKE_BINARY_DIR}/openblas-link)
file(MAKE_DIRECTORY ${OPENBLAS_LINK_DIR})
file(CREATE_LINK ${OPENBLAS_LIBRARY} ${OPENBLAS_LINK_DIR}/libopenblas.so SYMBOLIC)
file(CREATE_LINK ${OPENBLAS_LIBRARY} ${OPENBLAS_LINK_DIR}/libopenblas_nolapack.so SYMBOLIC)
