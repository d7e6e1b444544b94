# Families from specification files (README.md, "Your own system"): every *.toml in
# SLIM_FAMILY_DIRS is turned into C by tools/slimgen.py at build time and registered by a
# generated SlimFamilyRegisterGenerated(); editing a spec regenerates and rebuilds only it.
# Sets SLIM_GENERATED_SOURCES.
# Debian's interpreter, where python3-sympy installs (not whichever python3 is first on PATH)
set(SLIM_PYTHON /usr/bin/python3 CACHE FILEPATH "Python 3.11+ with SymPy that runs tools/slimgen.py")
if(NOT EXISTS ${SLIM_PYTHON})
  message(FATAL_ERROR "${SLIM_PYTHON} not found: install the Debian package 'python3' (or set -DSLIM_PYTHON)")
endif()
execute_process(COMMAND ${SLIM_PYTHON} -c "import tomllib, sympy" RESULT_VARIABLE SLIM_SYMPY_RC OUTPUT_QUIET ERROR_QUIET)
if(SLIM_SYMPY_RC)
  message(FATAL_ERROR "${SLIM_PYTHON} cannot import tomllib and sympy (family generator tools/slimgen.py): install the Debian package 'python3-sympy' (Python >= 3.11)")
endif()

set(SLIM_FAMILY_DIRS "${CMAKE_SOURCE_DIR}/sweeps/families" CACHE STRING
  "Folders (;-separated) whose *.toml family specifications are generated and built in")
set(SLIM_GEN ${CMAKE_SOURCE_DIR}/tools/slimgen.py)
set(SLIM_GEN_DIR ${CMAKE_BINARY_DIR}/generated/families)
set(SLIM_FAMILY_SPECS "")
foreach(dir ${SLIM_FAMILY_DIRS})
  file(GLOB specs CONFIGURE_DEPENDS ${dir}/*.toml)
  list(APPEND SLIM_FAMILY_SPECS ${specs})
endforeach()

set(SLIM_GENERATED_SOURCES "")
foreach(spec ${SLIM_FAMILY_SPECS})
  get_filename_component(stem ${spec} NAME_WE)
  set(out ${SLIM_GEN_DIR}/${stem}.c)
  if(out IN_LIST SLIM_GENERATED_SOURCES)
    message(FATAL_ERROR "${spec}: another specification file is also named ${stem}.toml")
  endif()
  add_custom_command(OUTPUT ${out}
    COMMAND ${SLIM_PYTHON} ${SLIM_GEN} c ${spec} -o ${out}
    DEPENDS ${spec} ${SLIM_GEN}
    COMMENT "slimgen: family from ${stem}.toml" VERBATIM)
  list(APPEND SLIM_GENERATED_SOURCES ${out})
endforeach()
add_custom_command(OUTPUT ${SLIM_GEN_DIR}/registry.c
  COMMAND ${SLIM_PYTHON} ${SLIM_GEN} registry ${SLIM_FAMILY_SPECS} -o ${SLIM_GEN_DIR}/registry.c
  DEPENDS ${SLIM_FAMILY_SPECS} ${SLIM_GEN}
  COMMENT "slimgen: registry of the generated families" VERBATIM)
list(APPEND SLIM_GENERATED_SOURCES ${SLIM_GEN_DIR}/registry.c)
