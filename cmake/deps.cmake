# Third-party libraries, all from Debian packages (see scripts/install-deps.sh).
# Header-only use of fmt, CLI11 and nlohmann-json keeps the arm64 cross build free of
# foreign-architecture -dev packages: their headers are architecture-independent.
find_package(Threads REQUIRED)

add_library(hearth_deps INTERFACE)
target_compile_definitions(hearth_deps INTERFACE FMT_HEADER_ONLY=1)

if(CMAKE_CROSSCOMPILING)
  # Expose only those header-only libraries from the host's /usr/include, never its libc headers.
  set(HEARTH_HOST_HEADERS ${CMAKE_BINARY_DIR}/host-headers)
  file(MAKE_DIRECTORY ${HEARTH_HOST_HEADERS})
  foreach(dir nlohmann CLI fmt)
    if(NOT EXISTS ${HEARTH_HOST_HEADERS}/${dir})
      file(CREATE_LINK /usr/include/${dir} ${HEARTH_HOST_HEADERS}/${dir} SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(hearth_deps SYSTEM INTERFACE ${HEARTH_HOST_HEADERS})
else()
  find_package(nlohmann_json 3 REQUIRED)
  find_package(fmt REQUIRED)
  target_link_libraries(hearth_deps INTERFACE nlohmann_json::nlohmann_json fmt::fmt-header-only)
endif()
