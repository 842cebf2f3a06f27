# Warnings are errors on our own code only (never on third-party headers, which come in as SYSTEM).
# GCC 12 at -O3 reports std::string copies as overlapping (-Wrestrict, GCC bug 105329): a false positive
# in libstdc++ itself, so it stays a warning there.
function(cpmgw_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wnon-virtual-dtor
    $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local -Wno-error=restrict>)
endfunction()
