# Warnings are errors on our own code only (never on third-party headers, which come in as SYSTEM).
function(cpmgw_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wnon-virtual-dtor
    $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>)
endfunction()
