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
  foreach(dir nlohmann CLI fmt toml++ httplib.h sqlite3.h)
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

# cpp-httplib (hearth serve): Debian builds it as a shared library (libcpp-httplib.so) with a
# declarations-only header, so it is linked, not header-only. A cross build links the arm64
# runtime package from the multiarch directory (scripts/install-deps.sh installs
# libcpp-httplib0.11:arm64); its name has no unversioned .so link without the -dev package.
# toml++ (the server's --config) is used header-only, in one source file.
if(CMAKE_CROSSCOMPILING)
  find_library(HEARTH_HTTPLIB NAMES cpp-httplib libcpp-httplib.so.0.11
    PATHS /usr/lib/aarch64-linux-gnu NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH REQUIRED)
else()
  find_library(HEARTH_HTTPLIB NAMES cpp-httplib REQUIRED)
endif()
target_link_libraries(hearth_deps INTERFACE ${HEARTH_HTTPLIB})

# libcurl (hearth pull): optional, so a machine without it still builds everything else; pull
# then says how to get it. Debian's libcurl4-openssl-dev is Multi-Arch: same, so the arm64 one
# co-installs with the amd64 one (scripts/install-deps.sh installs both): its headers land in
# /usr/include/aarch64-linux-gnu and its libcurl.so in /usr/lib/aarch64-linux-gnu, both on the
# cross compiler's default search paths, so only find_library needs pointing there.
if(CMAKE_CROSSCOMPILING)
  find_library(HEARTH_CURL NAMES curl PATHS /usr/lib/aarch64-linux-gnu NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH)
  set(HEARTH_CURL_INCLUDE /usr/include/aarch64-linux-gnu)
else()
  find_library(HEARTH_CURL NAMES curl)
  find_path(HEARTH_CURL_INCLUDE curl/curl.h)
endif()
if(HEARTH_CURL AND EXISTS ${HEARTH_CURL_INCLUDE}/curl/curl.h)
  message(STATUS "hearth pull: libcurl ${HEARTH_CURL}")
  target_link_libraries(hearth_deps INTERFACE ${HEARTH_CURL})
  set(HEARTH_HAVE_CURL 1)
else()
  message(WARNING "libcurl not found (install libcurl4-openssl-dev): hearth pull will only say it cannot download")
  set(HEARTH_HAVE_CURL 0)
endif()

# SQLite (the RAG document store): Debian's libsqlite3-dev is Multi-Arch: same, so the arm64
# library co-installs (scripts/install-deps.sh); its header is the same for both.
if(CMAKE_CROSSCOMPILING)
  find_library(HEARTH_SQLITE NAMES sqlite3 PATHS /usr/lib/aarch64-linux-gnu NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH REQUIRED)
else()
  find_library(HEARTH_SQLITE NAMES sqlite3 REQUIRED)
endif()
target_link_libraries(hearth_deps INTERFACE ${HEARTH_SQLITE})
