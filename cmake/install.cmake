# `cmake --install`: the four libraries, their headers, and a CMake package so another project can
#   find_package(kafkawire 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE kafkawire::consumer)   # or ::protocol, ::group, ::net; ::kafkawire = ::consumer
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(KAFKAWIRE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/kafkawire)

set_target_properties(kafkawire_protocol PROPERTIES EXPORT_NAME protocol)
set_target_properties(kafkawire_group PROPERTIES EXPORT_NAME group)
set_target_properties(kafkawire_net PROPERTIES EXPORT_NAME net)
set_target_properties(kafkawire_consumer PROPERTIES EXPORT_NAME consumer)

install(TARGETS kafkawire_protocol kafkawire_group kafkawire_net kafkawire_consumer
        EXPORT kafkawireTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(layer protocol group net consumer)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(EXPORT kafkawireTargets NAMESPACE kafkawire:: DESTINATION ${KAFKAWIRE_CMAKE_DIR})

# What the config file must recreate. A static kafkawire_protocol carries its codec libraries as
# $<LINK_ONLY:...> entries naming imported targets of this build (ZLIB::ZLIB, PkgConfig::kafkawire_*);
# the consumer's project has to define the same targets, so the config file finds the same packages,
# only those this build linked.
get_target_property(kw_protocol_type kafkawire_protocol TYPE)
get_target_property(kw_protocol_libs kafkawire_protocol LINK_LIBRARIES)
set(KAFKAWIRE_PACKAGE_STATIC OFF)
if(kw_protocol_type STREQUAL "STATIC_LIBRARY")
  set(KAFKAWIRE_PACKAGE_STATIC ON)
endif()
set(KAFKAWIRE_PACKAGE_ZLIB OFF)
set(KAFKAWIRE_PACKAGE_LZ4 OFF)
set(KAFKAWIRE_PACKAGE_SNAPPY OFF)
if("ZLIB::ZLIB" IN_LIST kw_protocol_libs)
  set(KAFKAWIRE_PACKAGE_ZLIB ON)
endif()
if("PkgConfig::kafkawire_lz4" IN_LIST kw_protocol_libs)
  set(KAFKAWIRE_PACKAGE_LZ4 ON)
endif()
if("PkgConfig::kafkawire_snappy" IN_LIST kw_protocol_libs)
  set(KAFKAWIRE_PACKAGE_SNAPPY ON)
endif()
# kafkawire::net links OpenSSL's imported targets when it was built with them.
get_target_property(kw_net_libs kafkawire_net LINK_LIBRARIES)
set(KAFKAWIRE_PACKAGE_OPENSSL OFF)
if("OpenSSL::Crypto" IN_LIST kw_net_libs)
  set(KAFKAWIRE_PACKAGE_OPENSSL ON)
endif()
set(KAFKAWIRE_PACKAGE_BOOST_VERSION 1.81)  # what protocol/ and net/CMakeLists.txt require

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/kafkawireConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/kafkawireConfig.cmake INSTALL_DESTINATION ${KAFKAWIRE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/kafkawireConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/kafkawireConfig.cmake ${PROJECT_BINARY_DIR}/kafkawireConfigVersion.cmake
        DESTINATION ${KAFKAWIRE_CMAKE_DIR})
