function(starpunk_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough
    # Aggregates with optional trailing members (http::Route::inline_when) are
    # meant to be brace-initialised without them.
    -Wno-missing-field-initializers)
  if(STARPUNK_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
