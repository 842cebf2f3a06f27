# Warnings are errors on our own code only (never on third-party headers, which come in as SYSTEM).
function(cpmgw_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow=local -Wnon-virtual-dtor)
endfunction()
