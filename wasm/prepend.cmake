# cmake -DJS=file.js -DPRELUDE=prelude.js -P prepend.cmake: puts PRELUDE in front of JS once.
file(READ ${JS} body)
file(READ ${PRELUDE} prelude)
string(FIND "${body}" "${prelude}" at)
if(NOT at EQUAL 0)
  file(WRITE ${JS} "${prelude}${body}")
endif()
