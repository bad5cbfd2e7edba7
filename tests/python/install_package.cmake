# Installs clients/python into a fresh venv, offline, with the command README documents.
# Usage: cmake -DPYTHON=/usr/bin/python3 -DVENV=dir -DPACKAGE=clients/python [-DFLATC=flatc]
#        -P install_package.cmake
# Fails (non-zero exit) when venv creation or the pip install fails.

foreach(var PYTHON VENV PACKAGE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_package.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${VENV})
execute_process(
  COMMAND ${PYTHON} -m venv --system-site-packages ${VENV}
  RESULT_VARIABLE venv_result)
if(NOT venv_result EQUAL 0)
  message(FATAL_ERROR "creating the venv failed (${venv_result}); is python3-venv installed?")
endif()

if(FLATC)
  set(ENV{FLATC} ${FLATC})
endif()
# The native core compiles ~15 C++ files: two at a time, through ccache when there is one.
set(ENV{MNEMO_BUILD_JOBS} 2)
find_program(CCACHE ccache)
if(CCACHE)
  set(ENV{CC} "${CCACHE} gcc")
  set(ENV{CXX} "${CCACHE} g++")
endif()
execute_process(
  COMMAND ${VENV}/bin/python -m pip install --no-build-isolation --no-index
          --disable-pip-version-check --quiet ${PACKAGE}
  RESULT_VARIABLE pip_result)
if(NOT pip_result EQUAL 0)
  message(FATAL_ERROR "pip install ${PACKAGE} failed (${pip_result})")
endif()

execute_process(
  COMMAND ${VENV}/bin/python -c "import mnemo, mnemo._native, mnemo.wire.Request; print('mnemo', mnemo.__version__, 'installed')"
  RESULT_VARIABLE import_result)
if(NOT import_result EQUAL 0)
  message(FATAL_ERROR "the installed package cannot be imported (${import_result})")
endif()
