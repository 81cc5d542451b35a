# report.cmake — vigil's report (plugins/common/report*.c) for each frontend that compiles it in
# (xmlreport, ctl) and for modules/report_xml.so. In the frontend's CMakeLists.txt:
#
#   include(${CMAKE_SOURCE_DIR}/plugins/common/report.cmake)
#   vigil_plugin(NAME frontend SOURCES ... ${VIGIL_REPORT_SOURCES} LIBS ${VIGIL_REPORT_LIBS} ...)
#   target_include_directories(frontend_NAME PRIVATE ${VIGIL_REPORT_INCLUDE_DIRS})
#
# VIGIL_REPORT_SOURCES are the snapshot, the JSON writer and the helpers (jansson, libm): no
# libxml2. A frontend that writes XML itself adds ${VIGIL_REPORT_XML_SOURCES} (report_xml(),
# report_write(), report_render()) and ${VIGIL_REPORT_XML_LIBS}; frontend_ctl instead opens
# modules/report_xml.so (modules/report_xml.h) at its first XML report, so libxml2 is mapped
# into vigild only when a report is asked for.
#
# A test that #includes the sources needs ${LIBXML2_INCLUDE_DIRS} and ${LIBXML2_LINK_LIBRARIES}.
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)

set(VIGIL_REPORT_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/report.c
    ${CMAKE_CURRENT_LIST_DIR}/report_collect.c
    ${CMAKE_CURRENT_LIST_DIR}/report_health.c
    ${CMAKE_CURRENT_LIST_DIR}/report_json.c)
set(VIGIL_REPORT_LIBS PkgConfig::JANSSON m)
set(VIGIL_REPORT_XML_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/report_xml.c
    ${CMAKE_CURRENT_LIST_DIR}/report_render.c)
set(VIGIL_REPORT_XML_LIBS PkgConfig::LIBXML2)
set(VIGIL_REPORT_INCLUDE_DIRS ${CMAKE_CURRENT_LIST_DIR})
