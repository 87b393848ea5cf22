# starpunk_module(<name> [DEPS <module>...] [LIBS <target>...])
#
# One static library per folder of src/, built from src/<name>/*.cpp. The
# layer order is encoded in DEPS and enforced at compile time: a module's
# sources see only a private include directory (build/layers/<name>/) holding
# symbolic links to its own folder and to the folders of its dependencies,
# transitively. An include of anything above — `#include "web/site.hpp"` from
# notes/, say — fails with "No such file or directory".
# Declare modules bottom-up: a module's DEPS must already exist.
function(starpunk_module name)
  cmake_parse_arguments(M "" "" "DEPS;LIBS" ${ARGN})
  set(allowed ${name})
  set(deplibs)
  foreach(d ${M_DEPS})
    get_property(below GLOBAL PROPERTY STARPUNK_LAYER_${d})
    if(NOT below)
      message(FATAL_ERROR "starpunk_module(${name}): declare ${d} before ${name}")
    endif()
    list(APPEND allowed ${below})
    list(APPEND deplibs starpunk_${d})
  endforeach()
  list(REMOVE_DUPLICATES allowed)
  list(SORT allowed)
  set_property(GLOBAL PROPERTY STARPUNK_LAYER_${name} ${allowed})

  set(dir ${CMAKE_BINARY_DIR}/layers/${name})
  file(REMOVE_RECURSE ${dir})
  file(MAKE_DIRECTORY ${dir})
  foreach(a ${allowed})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/src/${a} ${dir}/${a} SYMBOLIC)
  endforeach()

  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${name}/*.cpp)
  add_library(starpunk_${name} STATIC ${sources})
  target_include_directories(starpunk_${name} PRIVATE ${dir} ${CMAKE_BINARY_DIR}/generated)
  target_compile_definitions(starpunk_${name} PUBLIC BOOST_ASIO_NO_DEPRECATED SPDLOG_FMT_EXTERNAL)
  target_link_libraries(starpunk_${name} PUBLIC ${deplibs} ${M_LIBS}
    fmt::fmt spdlog::spdlog nlohmann_json::nlohmann_json Threads::Threads)
  starpunk_warnings(starpunk_${name})
  set_property(GLOBAL APPEND PROPERTY STARPUNK_MODULES starpunk_${name})
endfunction()
