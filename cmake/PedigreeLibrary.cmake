# pedigree_library(<folder> DEPS <targets...>)
# Defines target pedigree_<folder> with alias pedigree::<folder>: every .cpp under
# <folder>/src is compiled in; only <folder>/include is exported, so other folders
# can reach nothing but the public headers.
function(pedigree_library folder)
  cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp)
  if(NOT sources)
    # A folder whose code has not landed yet is a header-only interface.
    add_library(pedigree_${folder} INTERFACE)
    target_include_directories(pedigree_${folder} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_link_libraries(pedigree_${folder} INTERFACE ${ARG_DEPS})
    add_library(pedigree::${folder} ALIAS pedigree_${folder})
    return()
  endif()
  add_library(pedigree_${folder} STATIC ${sources})
  add_library(pedigree::${folder} ALIAS pedigree_${folder})
  target_include_directories(pedigree_${folder}
    PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(pedigree_${folder} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# pedigree_test(<folder> DEPS <targets...>)
# One Boost.Test executable per library: tests/<folder>/*.cpp -> test_<folder>.
function(pedigree_test folder)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${folder}/*.cpp)
  add_executable(test_${folder} ${sources})
  target_compile_definitions(test_${folder} PRIVATE BOOST_TEST_DYN_LINK
    PEDIGREE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_include_directories(test_${folder} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(test_${folder} PRIVATE ${ARG_DEPS} Boost::unit_test_framework)
  list(LENGTH sources count)
  # main.cpp alone holds no case; Boost.Test fails on an empty tree.
  if(count GREATER 1)
    add_test(NAME ${folder} COMMAND test_${folder} --log_level=warning --report_level=short)
    set_tests_properties(${folder} PROPERTIES TIMEOUT 900)
  endif()
endfunction()
