# report.cmake — vigil's report (plugins/common/report*.c) for each frontend that compiles it in
# (xmlreport, ctl). In the frontend's CMakeLists.txt:
#
#   include(${CMAKE_SOURCE_DIR}/plugins/common/report.cmake)
#   vigil_plugin(NAME frontend SOURCES ... ${VIGIL_REPORT_SOURCES} LIBS ${VIGIL_REPORT_LIBS} ...)
#   target_include_directories(frontend_NAME PRIVATE ${VIGIL_REPORT_INCLUDE_DIRS})
#
# A test that #includes the sources needs ${LIBXML2_INCLUDE_DIRS} and ${LIBXML2_LINK_LIBRARIES}.
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)

set(VIGIL_REPORT_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/report.c
    ${CMAKE_CURRENT_LIST_DIR}/report_collect.c
    ${CMAKE_CURRENT_LIST_DIR}/report_health.c
    ${CMAKE_CURRENT_LIST_DIR}/report_xml.c
    ${CMAKE_CURRENT_LIST_DIR}/report_json.c)
set(VIGIL_REPORT_LIBS PkgConfig::LIBXML2 PkgConfig::JANSSON m)
set(VIGIL_REPORT_INCLUDE_DIRS ${CMAKE_CURRENT_LIST_DIR})
