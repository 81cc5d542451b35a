# Fails unless FILE (a plugin, or an internal module) exports exactly one symbol, SYMBOL
# (default vigil_plugin_entry_v1; modules export vigil_module_entry), as NM lists it.
if(NOT DEFINED SYMBOL)
  set(SYMBOL vigil_plugin_entry_v1)
endif()
execute_process(COMMAND ${NM} -D --defined-only ${FILE}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only ${FILE} failed (${rc}): ${err}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(symbols "")
foreach(line ${lines})
  # "ADDRESS TYPE NAME"; skip the version node lines a version script may add (type A)
  if(line MATCHES "^[0-9a-fA-F]* *([A-Za-z]) (.+)$" AND NOT CMAKE_MATCH_1 STREQUAL "A")
    list(APPEND symbols ${CMAKE_MATCH_2})
  endif()
endforeach()
if(NOT symbols STREQUAL SYMBOL)
  string(REPLACE ";" ", " shown "${symbols}")
  message(FATAL_ERROR "${FILE} must export exactly ${SYMBOL}, it exports: ${shown}\n"
                      "Make helpers static, build with hidden visibility and the version script "
                      "(vigil_plugin(): sdk/cmake/vigil-plugin.map; vigil_module(): "
                      "modules/module.map), and define the entry with VIGIL_PLUGIN_DEFINE or "
                      "VIGIL_MODULE_DEFINE.")
endif()
message(STATUS "${FILE}: exports only ${SYMBOL}")
