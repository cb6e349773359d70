# `cmake --install` puts the libraries, their public headers, the `pedigree` binary and
# a CMake package under the prefix, so that another project can write
#   find_package(pedigree 0.1 REQUIRED)                      # pedigree::base … usecases
#   find_package(pedigree 0.1 REQUIRED COMPONENTS services)  # + pedigree::http, demo, cli
# tests/install/ builds such a project against a staged install in CI.
include(CMakePackageConfigHelpers)

# The services need POCO; a consumer that only verifies logs or parses GS1 should not,
# so they are a component with their own export set.
set(pedigree_core_libraries pedigree_base pedigree_log pedigree_provenance
  pedigree_scanner pedigree_reports pedigree_usecases)
set(pedigree_services_libraries pedigree_http pedigree_demo pedigree_cli)

get_property(defined GLOBAL PROPERTY PEDIGREE_LIBRARIES)
list(REMOVE_ITEM defined ${pedigree_core_libraries} ${pedigree_services_libraries})
if(defined)
  message(FATAL_ERROR "cmake/PedigreeInstall.cmake: add ${defined} to the core or the "
    "services libraries, so that it is installed and exported")
endif()

set(pedigree_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/pedigree)

install(TARGETS ${pedigree_core_libraries} pedigree
  EXPORT pedigreeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ${pedigree_services_libraries}
  EXPORT pedigreeServicesTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT pedigreeTargets NAMESPACE pedigree:: DESTINATION ${pedigree_cmake_dir})
install(EXPORT pedigreeServicesTargets NAMESPACE pedigree:: DESTINATION ${pedigree_cmake_dir})

configure_package_config_file(cmake/pedigreeConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/pedigreeConfig.cmake
  INSTALL_DESTINATION ${pedigree_cmake_dir})
# 0.x: a minor release may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/pedigreeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/pedigreeConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/pedigreeConfigVersion.cmake
  DESTINATION ${pedigree_cmake_dir})

# What an operator installs besides the binary, made from the CLI's own command table at
# build time (one source of truth; tests/services/cli/cli_help_test.cpp holds the table to
# the parsers): the man page, bash completion and the example `serve` settings, plus the
# systemd unit. tests/install/run.sh checks them (docs/building.md, docs/operations.md).
set(pedigree_generated ${CMAKE_CURRENT_BINARY_DIR}/generated)
add_custom_command(
  OUTPUT ${pedigree_generated}/pedigree.1 ${pedigree_generated}/completion/pedigree
    ${pedigree_generated}/pedigree.conf.example
  COMMAND ${CMAKE_COMMAND} -E make_directory ${pedigree_generated}/completion
  COMMAND pedigree help --man > ${pedigree_generated}/pedigree.1
  COMMAND pedigree help --completion bash > ${pedigree_generated}/completion/pedigree
  COMMAND pedigree help --config-example > ${pedigree_generated}/pedigree.conf.example
  DEPENDS pedigree
  COMMENT "Generating pedigree.1, bash completion and pedigree.conf.example from the CLI"
  VERBATIM)
add_custom_target(pedigree_operator_files ALL
  DEPENDS ${pedigree_generated}/pedigree.1 ${pedigree_generated}/completion/pedigree
    ${pedigree_generated}/pedigree.conf.example)
configure_file(packaging/pedigree.service.in ${pedigree_generated}/pedigree.service @ONLY)

install(FILES ${pedigree_generated}/pedigree.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${pedigree_generated}/completion/pedigree
  DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions)
install(FILES ${pedigree_generated}/pedigree.conf.example DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${pedigree_generated}/pedigree.service
  DESTINATION lib/systemd/system)
