# Fails unless the plugin PLUGIN exports exactly one symbol, vigil_plugin_entry_v1 (run by NM).
execute_process(COMMAND ${NM} -D --defined-only ${PLUGIN}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only ${PLUGIN} failed (${rc}): ${err}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(symbols "")
foreach(line ${lines})
  # "ADDRESS TYPE NAME"; skip the version node lines a version script may add (type A)
  if(line MATCHES "^[0-9a-fA-F]* *([A-Za-z]) (.+)$" AND NOT CMAKE_MATCH_1 STREQUAL "A")
    list(APPEND symbols ${CMAKE_MATCH_2})
  endif()
endforeach()
if(NOT symbols STREQUAL "vigil_plugin_entry_v1")
  string(REPLACE ";" ", " shown "${symbols}")
  message(FATAL_ERROR "${PLUGIN} must export exactly vigil_plugin_entry_v1, it exports: ${shown}\n"
                      "Make helpers static, build with vigil_plugin() (hidden visibility and "
                      "sdk/cmake/vigil-plugin.map), and define the entry with VIGIL_PLUGIN_DEFINE.")
endif()
message(STATUS "${PLUGIN}: exports only vigil_plugin_entry_v1")
