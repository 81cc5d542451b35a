# VigilPluginFunctions.cmake — vigil_add_plugin(), included by VigilPluginSDKConfig.cmake.
include_guard(GLOBAL)

# The version script is looked up through a global property, so vigil_add_plugin() works in any
# directory of the caller's project, wherever find_package() was called.
set_property(GLOBAL PROPERTY VIGIL_PLUGIN_SDK_VERSION_SCRIPT "${VigilPluginSDK_VERSION_SCRIPT}")

# vigil_add_plugin(NAME KIND SOURCES src... [LIBS lib...] [OUTPUT_DIRECTORY dir])
#
# Builds the module KIND_NAME.so (target KIND_NAME) from SOURCES, linked with LIBS, the way
# vigild loads plugins:
#   - file name KIND_NAME.so, no "lib" prefix: [KIND.NAME] in vigil.ini loads it;
#   - hidden visibility: only what VIGIL_PLUGIN_DEFINE marks VIGIL_EXPORT is visible;
#   - -Wl,--version-script: the one exported symbol is vigil_plugin_entry_v1;
#   - -Wl,--no-undefined: a missing library is a link error now, not a dlopen error later.
# KIND is monitor, policy, store or frontend; NAME matches [a-z0-9][a-z0-9_-]*.
function(vigil_add_plugin name kind)
  cmake_parse_arguments(PARSE_ARGV 2 VAP "" "OUTPUT_DIRECTORY" "SOURCES;LIBS")
  if(VAP_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "vigil_add_plugin(${name} ${kind}): unexpected arguments "
                        "'${VAP_UNPARSED_ARGUMENTS}' (expected SOURCES, LIBS, OUTPUT_DIRECTORY)")
  endif()
  if(NOT kind MATCHES "^(monitor|policy|store|frontend)$")
    message(FATAL_ERROR "vigil_add_plugin(${name} ${kind}): KIND must be monitor, policy, "
                        "store or frontend, not '${kind}'")
  endif()
  if(NOT name MATCHES "^[a-z0-9][a-z0-9_-]*$")
    message(FATAL_ERROR "vigil_add_plugin(${name} ${kind}): NAME must match "
                        "[a-z0-9][a-z0-9_-]* (it is the NAME of [${kind}.NAME] in vigil.ini)")
  endif()
  if(NOT VAP_SOURCES)
    message(FATAL_ERROR "vigil_add_plugin(${name} ${kind}): no SOURCES")
  endif()
  get_property(map GLOBAL PROPERTY VIGIL_PLUGIN_SDK_VERSION_SCRIPT)

  set(target ${kind}_${name})
  add_library(${target} MODULE ${VAP_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    OUTPUT_NAME ${target}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(VAP_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${VAP_OUTPUT_DIRECTORY})
  endif()
  target_link_libraries(${target} PRIVATE VigilPluginSDK::sdk ${VAP_LIBS})
  target_link_options(${target} PRIVATE "LINKER:--no-undefined" "LINKER:--version-script=${map}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${map})
endfunction()
