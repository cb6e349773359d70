# pedigree_target_defaults(<target>)
# What every target of ours is compiled with: C++23 as a usage requirement, our
# warnings (errors with PEDIGREE_WERROR), and the sanitizer or fuzzer instrumentation
# when asked for. Warnings are PRIVATE: they apply to our sources, never to a project
# that links us. A static library built with a sanitizer needs its runtime at the final
# link, so for libraries the sanitizer link flags are an INTERFACE requirement and
# travel with the installed targets.
function(pedigree_target_defaults target)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_compile_features(${target} INTERFACE cxx_std_23)
    return()
  endif()
  if(type STREQUAL "EXECUTABLE")
    set(usage PRIVATE)
  else()
    set(usage INTERFACE)
  endif()
  target_compile_features(${target} PUBLIC cxx_std_23)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wno-missing-field-initializers
    $<$<BOOL:${PEDIGREE_WERROR}>:-Werror>)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12 (Debian 12 ships 12.2) reports a bogus -Wrestrict inside libstdc++ wherever
    # the optimizer inlines `"literal" + std::string(...)`, an idiom used hundreds of
    # times here; which of them fire changes with -O3 inlining decisions (GCC bug 105329).
    # Real overlapping copies are still caught at run time by ASan in CI.
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(PEDIGREE_SANITIZE)
    target_compile_options(${target} PRIVATE
      -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} ${usage} -fsanitize=address,undefined)
  endif()
  if(PEDIGREE_FUZZ)
    # Libraries get coverage instrumentation; only the fuzz targets link libFuzzer's main.
    target_compile_options(${target} PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
    target_link_options(${target} ${usage} -fsanitize=address,undefined)
  endif()
endfunction()

# pedigree_library(<folder> DEPS <targets...> PRIVATE_DEPS <targets...>)
# Defines target pedigree_<folder> with alias pedigree::<folder> (also its name once
# installed): every .cpp under <folder>/src is compiled in; only <folder>/include is
# exported, as the HEADERS file set, so other folders can reach nothing but the public
# headers. Every library must be listed in cmake/PedigreeInstall.cmake.
function(pedigree_library folder)
  cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  set(target pedigree_${folder})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  file(GLOB_RECURSE headers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/include/*.h)
  if(NOT sources)
    # A folder whose code has not landed yet is a header-only interface.
    add_library(${target} INTERFACE)
    target_sources(${target} INTERFACE
      FILE_SET HEADERS BASE_DIRS ${CMAKE_CURRENT_SOURCE_DIR}/include FILES ${headers})
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
  else()
    add_library(${target} STATIC ${sources})
    target_sources(${target} PUBLIC
      FILE_SET HEADERS BASE_DIRS ${CMAKE_CURRENT_SOURCE_DIR}/include FILES ${headers})
    target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    # PRIVATE_DEPS of a static library still reach the final link: CMake exports them
    # as $<LINK_ONLY:...>, and pedigreeConfig.cmake finds them for the consumer.
    target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  endif()
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${folder})
  pedigree_target_defaults(${target})
  add_library(pedigree::${folder} ALIAS ${target})
  set_property(GLOBAL APPEND PROPERTY PEDIGREE_LIBRARIES ${target})
endfunction()

# pedigree_test(<folder> DEPS <targets...>)
# One Boost.Test executable per library: tests/<folder>/*.cpp -> test_<folder>.
function(pedigree_test folder)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${folder}/*.cpp)
  add_executable(test_${folder} ${sources})
  pedigree_target_defaults(test_${folder})
  target_compile_definitions(test_${folder} PRIVATE BOOST_TEST_DYN_LINK
    PEDIGREE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_include_directories(test_${folder} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(test_${folder} PRIVATE ${ARG_DEPS} Boost::unit_test_framework)
  list(LENGTH sources count)
  # main.cpp alone holds no case; Boost.Test fails on an empty tree.
  if(count GREATER 1)
    add_test(NAME ${folder} COMMAND test_${folder} --log_level=warning --report_level=short)
    set_tests_properties(${folder} PROPERTIES TIMEOUT 900 LABELS unit)
  endif()
endfunction()
