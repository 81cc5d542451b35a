# Fails if FILE (a binary or a plugin) pulls in, through ldd (run as LDD), a library matching
# the regular expression FORBID: such a library belongs in a module opened on first use.
execute_process(COMMAND ${LDD} ${FILE}
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${LDD} ${FILE} failed (${rc}): ${err}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
foreach(line ${lines})
  if(line MATCHES "${FORBID}")
    message(FATAL_ERROR "${FILE} loads ${line}\n"
                        "This library belongs in a module opened on first use (modules/).")
  endif()
endforeach()
message(STATUS "${FILE}: nothing matching ${FORBID}")
